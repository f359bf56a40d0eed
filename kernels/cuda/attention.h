// Fused causal self-attention on the GPU (FlashAttention-2 style): the
// (T, T) attention weights are never stored. Every (B, H, T, D) operand may
// have any strides over B, H and T but must be contiguous along D; D <= 128
// (kMaxAttentionHeadDim). lse and the temporaries are contiguous (B, H, T) in
// float32 (float64 for float64 inputs).
//
// Grouped-query attention: k and v may have fewer heads than q, (B, Hkv, T, D)
// with Hkv dividing H; query head h reads key/value head h / (H / Hkv). The
// backward then writes dk and dv per query head, (B, H, T, D), and the caller
// sums each group.
#pragma once

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

inline constexpr int64_t kMaxAttentionHeadDim = 128;

// out = softmax(q k^T * scale, causal) v; lse = each row's log of the softmax
// denominator (of the scaled scores). float16 and bfloat16 run on tensor
// cores, float32 too when `tf32` (dlt::allow_tf32()); see attention_mma.h.
void launch_causal_attention(TensorArg out, TensorArg lse, TensorArg q, TensorArg k, TensorArg v,
                             double scale, bool tf32, cudaStream_t stream);

// dq, dk, dv from dout and the forward's q, k, v, out, lse. row_dot is a
// (B, H, T) scratch tensor of lse's dtype: rowsum(dout * out).
void launch_causal_attention_backward(TensorArg dq, TensorArg dk, TensorArg dv, TensorArg dout,
                                      TensorArg q, TensorArg k, TensorArg v, TensorArg out,
                                      TensorArg lse, TensorArg row_dot, double scale, bool tf32,
                                      cudaStream_t stream);

// Holds the launchers to at most `bytes` of shared memory a block (0: the
// device's own limit), so that tests on a large GPU take the paths of smaller
// ones: 99 KiB on sm_86/89/120, 64 KiB on AMD's. Returns the previous cap.
size_t cap_attention_shared_bytes(size_t bytes);

}  // namespace dlt::gpu
