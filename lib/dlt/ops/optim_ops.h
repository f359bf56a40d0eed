// Fused optimizer updates with torch's semantics (see lib/dlt/optim for the
// optimizers that own the state). One call updates a list of parameters that
// share the hyperparameters, dtype and device (a parameter group), and their
// state, in place: on cuda in a few multi-tensor launches rather than one per
// parameter; every element gets the same arithmetic either way. Parameters and
// state are f32 or f64; each state buffer has its parameter's shape and dtype
// and is contiguous. Nothing is recorded for autograd.
//
// Kernel operands (ops::KernelCall) of the NoGrad ops sgd_step, adam_step,
// rmsprop_step for n parameters:
//   in  = [grad_0, ..., grad_{n-1}]                 (contiguous)
//   out = [param_0, state_0..., copy_0, param_1, state_1..., copy_1, ...]
// each parameter followed by its op's fixed number of state slots and then
// its low-precision copy (absent buffers and copies are undefined tensors):
//   sgd_step      1: momentum_buffer
//   adam_step     2: exp_avg, exp_avg_sq
//   rmsprop_step  3: square_avg, momentum_buffer, grad_avg
// A copy (mixed precision: the bf16 or f16 weight autocast's GEMMs read) is
// written from the parameter's new value in the same pass, rounded as to()
// rounds, so it equals param.to(copy dtype) bit for bit. In one call either
// every parameter has a copy, all of one dtype, or none has; parameters
// with copies are f32.
//
// Loss scaling's unscale_check (NoGrad): in = [], out = [found_inf, grad_0,
// ..., grad_{n-1}]: found_inf a 1-element f32 tensor the kernel sets to 1
// when an element of a gradient is inf or NaN (it never writes 0), each
// gradient contiguous, f32 or f64, multiplied by attrs.inv_scale in place.
//
// Gradient clipping's sum_squares (NoGrad): in = [t_0, ..., t_{n-1}], each
// contiguous f32 or f64, out = [sums]: an (n) f64 tensor, sums[i] the sum of
// t_i's squared elements.
#pragma once

#include <span>

#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt {

// State slots after each parameter in a kernel call's `out` (see above).
inline constexpr int kSgdStateSlots = 1, kAdamStateSlots = 2, kRmspropStateSlots = 3;
// Slots of each parameter in `out`: itself, its state, its copy.
constexpr int optim_slots(int state_slots) { return 1 + state_slots + 1; }

// One list per operand, element i belonging to params[i]; an optional state
// list is empty when the options do not use it. `copies`: empty, or each
// parameter's low-precision copy (bf16 or f16, like the parameter,
// contiguous) to write in the same pass. An empty params list does nothing.

// momentum_buffers: empty when attrs.momentum == 0.
void sgd_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
               std::span<const Tensor> momentum_buffers, const ops::SgdStepAttrs& attrs,
               std::span<const Tensor> copies = {});

void adam_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
                std::span<const Tensor> exp_avgs, std::span<const Tensor> exp_avg_sqs,
                const ops::AdamStepAttrs& attrs, std::span<const Tensor> copies = {});

// momentum_buffers: empty when attrs.momentum == 0; grad_avgs: empty unless
// attrs.centered.
void rmsprop_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
                   std::span<const Tensor> square_avgs, std::span<const Tensor> momentum_buffers,
                   std::span<const Tensor> grad_avgs, const ops::RmspropStepAttrs& attrs,
                   std::span<const Tensor> copies = {});

// One parameter: the lists above of length one, an absent buffer undefined.

// momentum_buffer: undefined when attrs.momentum == 0.
void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const ops::SgdStepAttrs& attrs);

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const ops::AdamStepAttrs& attrs);

// momentum_buffer: undefined when attrs.momentum == 0; grad_avg: undefined
// unless attrs.centered.
void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& momentum_buffer, const Tensor& grad_avg,
                   const ops::RmspropStepAttrs& attrs);

// Loss scaling (GradScaler's _amp_foreach_non_finite_check_and_unscale_):
// multiplies every gradient by inv_scale in place, in one pass, and returns
// a 1-element f32 tensor on their device, 1 when an element was inf or NaN
// and 0 otherwise; reading it is the caller's one round trip. Gradients:
// defined, f32 or f64, one device; strided ones go through contiguous copies.
Tensor unscale_check_(std::span<const Tensor> grads, double inv_scale);

// The sum of each tensor's squared elements, as an (n) f64 tensor on their
// device, in one pass over each (clip_grad_norm's per-tensor norms without
// a squared copy). Tensors: defined, f32 or f64, one device; strided ones
// are read through contiguous copies. On the CPU the sums are summed in a
// fixed order of fixed blocks: they do not depend on the thread count.
Tensor sum_squares(std::span<const Tensor> tensors);

}  // namespace dlt
