// Launchers of layer_norm / batch_norm and their backward (kernels/cpu/norm.cpp
// is the reference). Tensors are contiguous; saved statistics (mean, rstd /
// invstd) are f64 for f64 inputs and f32 otherwise; "acc" below is that type.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// ---- layer norm and RMS norm: x (M, N) rows --------------------------------------------------

// Row blocks of the dgamma / dbeta column reduction: each block of rows sums
// its columns into a partial, a second kernel adds the partials in order.
inline int64_t layer_norm_row_blocks(int64_t M) { return std::min<int64_t>(M, 128); }
// Scratch of layer_norm_backward: 2 * row_blocks * N accumulators.
inline int64_t layer_norm_workspace_elements(int64_t M, int64_t N) {
  return 2 * layer_norm_row_blocks(M) * N;
}

struct LayerNormArgs {
  int64_t rows = 0, cols = 0;  // M, N
  double eps = 1e-5;
  // false: RMS norm, x rstd with rstd = 1 / sqrt(mean(x^2) + eps): no mean
  // (its tensor has null data), no bias.
  bool centered = true;
};

// weight / bias may have null data (absent). mean / rstd: (M) acc.
void launch_layer_norm(TensorArg y, TensorArg mean, TensorArg rstd, TensorArg x, TensorArg weight,
                       TensorArg bias, const LayerNormArgs& a, cudaStream_t stream);

// Outputs with null data are not wanted. `workspace`: acc scratch of
// layer_norm_workspace_elements (needed when grad_weight or grad_bias is wanted).
void launch_layer_norm_backward(TensorArg grad_x, TensorArg grad_weight, TensorArg grad_bias,
                                TensorArg grad, TensorArg x, TensorArg mean, TensorArg rstd,
                                TensorArg weight, const LayerNormArgs& a, void* workspace,
                                cudaStream_t stream);

// ---- batch norm: x (B, C, S), S the product of the spatial dims (1 for (B, C)) ----

struct BatchNormArgs {
  int64_t batch = 0, channels = 0, spatial = 1;
  bool training = true;
  double momentum = 0.1, eps = 1e-5;
};

// Slices of each channel's B * S elements, summed by separate blocks and
// combined in slice order.
inline int64_t batch_norm_splits(const BatchNormArgs& a) {
  constexpr int64_t kSliceElements = 16384, kTargetBlocks = 1024;
  const int64_t n = a.batch * a.spatial;
  const int64_t channel_blocks = a.spatial == 1 ? (a.channels + 31) / 32 : a.channels;
  if (channel_blocks == 0) return 1;
  const int64_t by_fill = std::max<int64_t>(1, kTargetBlocks / channel_blocks);
  const int64_t by_size = (n + kSliceElements - 1) / kSliceElements;
  return std::max<int64_t>(1, std::min(by_size, by_fill));
}
// Acc scratch: two partial sums per slice and channel, four coefficients per channel.
inline int64_t batch_norm_workspace_elements(const BatchNormArgs& a) {
  return 2 * batch_norm_splits(a) * a.channels + 4 * a.channels;
}

// running_mean / running_var (any floating dtype) may have null data;
// weight / bias too. save_mean / save_invstd: (C) acc.
void launch_batch_norm(TensorArg y, TensorArg save_mean, TensorArg save_invstd, TensorArg x,
                       TensorArg running_mean, TensorArg running_var, TensorArg weight,
                       TensorArg bias, const BatchNormArgs& a, void* workspace,
                       cudaStream_t stream);

void launch_batch_norm_backward(TensorArg grad_x, TensorArg grad_weight, TensorArg grad_bias,
                                TensorArg grad, TensorArg x, TensorArg weight,
                                TensorArg save_mean, TensorArg save_invstd,
                                const BatchNormArgs& a, void* workspace, cudaStream_t stream);

}  // namespace dlt::gpu
