// Launchers of cross_entropy / nll_loss and their backward (torch 1.13
// semantics, as kernels/cpu/loss.cpp). The input is contiguous (B, N, D):
// N classes and B * D positions, each with one target; class c of position
// p = (b, d) is at b*N*D + c*D + d.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

enum class LossReduction : uint8_t { none, mean, sum };  // as dlt::Reduction

struct ClassLayout {
  int64_t batch = 1, classes = 1, inner = 1;
  __host__ __device__ int64_t positions() const { return batch * inner; }
  // Element offset of class 0 of position p.
  __host__ __device__ int64_t base(int64_t p) const {
    return p / inner * classes * inner + p % inner;
  }
};

struct LossArgs {
  ClassLayout layout;
  const int64_t* target = nullptr;  // one per position
  int64_t ignore_index = -100;
  double label_smoothing = 0;  // cross_entropy only
  LossReduction reduction = LossReduction::mean;
  int64_t count = 0;  // targets that are not ignore_index (the divisor of mean)
};

// result[0]: targets that are not ignore_index; result[1]: the first
// position whose target is neither ignore_index nor in [0, N) (positions()
// when none); result[2]: that target.
void launch_count_targets(const LossArgs& a, int64_t* result, cudaStream_t stream);

// out: per-position losses (none) or their sum / mean; `losses` is scratch
// for positions() doubles.
void launch_cross_entropy(TensorArg out, TensorArg logits, const LossArgs& a, double* losses,
                          cudaStream_t stream);
void launch_cross_entropy_backward(TensorArg dx, TensorArg grad, TensorArg logits,
                                   const LossArgs& a, cudaStream_t stream);

void launch_nll_loss(TensorArg out, TensorArg log_probs, const LossArgs& a, double* losses,
                     cudaStream_t stream);
void launch_nll_loss_backward(TensorArg dx, TensorArg grad, const LossArgs& a,
                              cudaStream_t stream);

}  // namespace dlt::gpu
