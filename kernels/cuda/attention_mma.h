// The fused causal attention on tensor cores (attention_mma.cu), called by
// attention.cu's launchers where use_tensor_cores() says so. Same operands,
// results and block jobs as the FMA kernels; lse and row_dot are float32.
#pragma once

#include "kernels/cuda/attention_common.cuh"

namespace dlt::gpu::attention {

// float16 and bfloat16 always, float32 as TF32 when `tf32` (dlt::allow_tf32());
// never float64, never in HIP builds (DLT_GPU_WMMA 0), on devices before sm_80
// (compute capability 8.0: bfloat16 and TF32 fragments) or where the tiles
// for head size `dim` need more shared memory than the device allows.
bool use_tensor_cores(DTypeCode dtype, bool tf32, int dim);

void launch_forward_mma(const Problem& p, Heads out, float* lse, Heads q, Heads k, Heads v,
                        DTypeCode dtype, cudaStream_t stream);

// After row_dot = rowsum(dout * out) (attention.cu's kernel).
void launch_backward_mma(const Problem& p, Heads dq, Heads dk, Heads dv, Heads dout, Heads q,
                         Heads k, Heads v, const float* lse, const float* row_dot, DTypeCode dtype,
                         cudaStream_t stream);

}  // namespace dlt::gpu::attention
