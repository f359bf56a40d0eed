// What the op-table and end-to-end CUDA suites share: skipping without a
// usable device, moving op-table inputs to a device with their strides kept,
// and the repository root. cuda_harness.cpp also holds the `gpu` group's
// one-line skip.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dlt/core/device_runtime.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/ops/op_case.h"

namespace dlt::testing {

// Whether this process can run CUDA work (a build with the backend and a device).
inline bool cuda_usable() { return device_count(DeviceType::cuda) > 0; }

// Tests skip with DLT_SKIP_WITHOUT_CUDA() (gpu_compare.h); the `gpu` ctest
// group says so once, up front (tests/cuda/run_gpu_tests.sh), and runs no test.

// A copy of `x` on `device`. An input drawn as a strided view (InputSpec::noncontig:
// every other element of the last dim) stays one there, so the kernels see the
// same strides on both devices.
Tensor to_device_as_drawn(const Tensor& x, const InputSpec& spec, Device device);

// The repository root: the build's, or $DLT_SOURCE_DIR where the binaries were
// carried to another machine (tests/cli/run_dlt.h reads $DLT_BIN likewise).
std::string source_dir();

}  // namespace dlt::testing
