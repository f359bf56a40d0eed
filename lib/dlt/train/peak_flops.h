// The peak FLOP/s that model FLOPs utilisation (MFU) divides by: a table of
// GPUs by name (dense peaks per precision, as their vendors state them), and
// for the CPU a short f32 GEMM measured at start-up with the run's threads.
// An unknown GPU has none, nor does a run under DLT_PROFILE_OPS: the run
// logs FLOP/s only.
#pragma once

#include <optional>
#include <string>

#include "dlt/core/device.h"

namespace dlt::train {

struct PeakFlops {
  double flops_per_s = 0;
  std::string source;  // "measured: f32 GEMM 1024^3 on 2 threads", "NVIDIA H100 SXM, tf32 dense"
};

// `precision`: train.precision (f32, tf32, bf16, fp16), which picks the
// GPU's peak (bf16/fp16: the 16-bit tensor-core peak) or the dtype of the
// CPU's measured GEMM.
std::optional<PeakFlops> peak_flops(Device device, std::string_view precision);

// Dense peaks of a GPU whose name contains a known model (A100, H100 SXM/PCIe,
// H200, L40S, ...); for tests and `dlt info`.
std::optional<PeakFlops> gpu_peak_flops(const std::string& name, std::string_view precision);

}  // namespace dlt::train
