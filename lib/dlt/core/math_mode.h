// Process-wide numerics switches of the accelerator back ends.
#pragma once

#include <string>

#include "dlt/core/dtype.h"

namespace dlt {

// Whether f32 matmuls and convolutions on a GPU may use TF32 tensor cores
// (10-bit mantissa inputs, f32 accumulation): faster, about 1e-3 relative
// error. Off by default, so f32 means full f32; DLT_ALLOW_TF32=1 in the
// environment turns it on at start-up.
void set_allow_tf32(bool allow);
bool allow_tf32();

// How this CPU runs matrix products in a 16-bit dtype (bf16, f16): oneDNN's
// native kernels or a widening to f32, in words for `dlt info` and a run's
// first lines. The CPU kernels register the answer.
std::string cpu_gemm_path(DType dtype);
void register_cpu_gemm_path(std::string (*describe)(DType));

}  // namespace dlt
