// Fused optimizer updates over a list of parameters of one dtype: the
// formulas, order of operations and scalar roundings of kernels/optim_update.h
// applied in multi-tensor launches (multi_tensor_plan.h). All operands are
// contiguous, f32 or f64, of the parameter's size (the op layer checks);
// absent state is nullptr. With `copy_dtype` (bf16 or f16, f32 parameters
// only) every parameter's low-precision copy is written from its new value
// in the same pass, rounded as the copy kernel rounds.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// One parameter's operands, `numel` elements each. state: the op's buffers in
// the order of its launcher's comment, nullptr past them or when absent.
struct OptimTensors {
  int64_t numel = 0;
  const void* grad = nullptr;
  void* param = nullptr;
  void* state[3] = {nullptr, nullptr, nullptr};
  void* copy = nullptr;  // the low-precision copy, when the launch writes them
};

struct SgdScalars {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};
// state: momentum_buffer (nullptr without momentum).
void launch_sgd_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                     std::span<const OptimTensors> tensors, const SgdScalars& s, cudaStream_t stream);

struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;
  int64_t step;
};
// state: exp_avg, exp_avg_sq.
void launch_adam_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                      std::span<const OptimTensors> tensors, const AdamScalars& s, cudaStream_t stream);

struct RmspropScalars {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
};
// state: square_avg, momentum_buffer (nullptr without momentum), grad_avg
// (nullptr unless centered).
void launch_rmsprop_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                         std::span<const OptimTensors> tensors, const RmspropScalars& s,
                         cudaStream_t stream);

// Loss scaling: each gradient (f32 or f64, sizes[i] elements) times
// inv_scale in place; *found (device f32) set to 1 when an element is inf or NaN.
void launch_unscale_check(DTypeCode dtype, std::span<void* const> grads, std::span<const int64_t> sizes,
                          float* found, double inv_scale, cudaStream_t stream);

}  // namespace dlt::gpu
