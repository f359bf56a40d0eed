// Fused optimizer updates, one pass per parameter: the formulas, order of
// operations and scalar roundings of kernels/cpu/optim.cpp. All operands are
// contiguous, f32 or f64, of one dtype and size (the op layer checks); absent
// state is nullptr.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

struct SgdScalars {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};
// grad -> param, momentum_buffer (nullptr without momentum).
void launch_sgd_step(DTypeCode dtype, int64_t n, const void* grad, void* param, void* buf,
                     const SgdScalars& s, cudaStream_t stream);

struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;
  int64_t step;
};
// grad -> param, exp_avg, exp_avg_sq.
void launch_adam_step(DTypeCode dtype, int64_t n, const void* grad, void* param, void* exp_avg,
                      void* exp_avg_sq, const AdamScalars& s, cudaStream_t stream);

struct RmspropScalars {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
};
// grad -> param, square_avg, momentum_buffer (nullptr without momentum),
// grad_avg (nullptr unless centered).
void launch_rmsprop_step(DTypeCode dtype, int64_t n, const void* grad, void* param,
                         void* square_avg, void* buf, void* grad_avg, const RmspropScalars& s,
                         cudaStream_t stream);

}  // namespace dlt::gpu
