#include "dlt/ops/optim_ops.h"

#include <vector>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

// Every parameter and gradient is defined, f32 or f64, and of parameter 0's
// dtype and device; each gradient is like its parameter.
void check_params(OpId op, std::span<const Tensor> params, std::span<const Tensor> grads) {
  const char* name = ops::op_name(op);
  DLT_CHECK(grads.size() == params.size(), "{}: {} parameters but {} gradients", name,
            params.size(), grads.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor &param = params[i], &grad = grads[i];
    DLT_CHECK(param.defined() && grad.defined(),
              "{}: parameter and gradient must be defined at index {}", name, i);
    DLT_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
              "{}: parameters of dtype {} are not supported (f32, f64) at index {}", name,
              param.dtype(), i);
    DLT_CHECK(param.dtype() == params[0].dtype() && param.device() == params[0].device(),
              "{}: parameter {} is {} on {}, parameter 0 {} on {}; one call takes one dtype and "
              "device",
              name, i, param.dtype(), param.device(), params[0].dtype(), params[0].device());
    DLT_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype(),
              "{}: gradient {} {} does not match parameter {} {} at index {}", name,
              shape_str(grad.shape()), grad.dtype(), shape_str(param.shape()), param.dtype(), i);
    DLT_CHECK(grad.device() == param.device(),
              "{}: gradient {} is on {}, its parameter on {}", name, i, grad.device(),
              param.device());
  }
}

// A state list is empty when the options do not use it; otherwise it has a
// contiguous buffer like each parameter (the kernel walks them in step).
void check_state(OpId op, const char* what, std::span<const Tensor> states, bool needed,
                 std::span<const Tensor> params) {
  const char* name = ops::op_name(op);
  if (!needed) {
    DLT_CHECK(states.empty(), "{}: {} given but not used by these options", name, what);
    return;
  }
  DLT_CHECK(!states.empty() || params.empty(), "{}: {} is required by these options", name, what);
  DLT_CHECK(states.size() == params.size(), "{}: {} {} buffers for {} parameters", name,
            states.size(), what, params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor &state = states[i], &param = params[i];
    DLT_CHECK(state.defined(), "{}: {} is required by these options at index {}", name, what, i);
    DLT_CHECK(state.shape() == param.shape() && state.dtype() == param.dtype(),
              "{}: {} {} {} does not match parameter {} {} at index {}", name, what,
              shape_str(state.shape()), state.dtype(), shape_str(param.shape()), param.dtype(),
              i);
    DLT_CHECK(state.device() == param.device(), "{}: {} {} is on {}, its parameter on {}", name,
              what, i, state.device(), param.device());
    DLT_CHECK(state.is_contiguous(), "{}: {} must be contiguous at index {}", name, what, i);
  }
}

// The low-precision copies: none, or one per parameter, all bf16 or all
// f16, each contiguous and like its f32 parameter.
void check_copies(OpId op, std::span<const Tensor> copies, std::span<const Tensor> params) {
  if (copies.empty()) return;
  const char* name = ops::op_name(op);
  DLT_CHECK(copies.size() == params.size(), "{}: {} low-precision copies for {} parameters", name,
            copies.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor &copy = copies[i], &param = params[i];
    DLT_CHECK(copy.defined(), "{}: low-precision copy {} is undefined", name, i);
    DLT_CHECK(copy.dtype() == DType::bf16 || copy.dtype() == DType::f16,
              "{}: low-precision copy {} is {}; copies are bfloat16 or float16", name, i, copy.dtype());
    DLT_CHECK(copy.dtype() == copies[0].dtype(),
              "{}: low-precision copy {} is {}, copy 0 {}; one call writes one dtype", name, i, copy.dtype(),
              copies[0].dtype());
    DLT_CHECK(param.dtype() == DType::f32, "{}: parameter {} is {}; only f32 parameters have low-precision copies",
              name, i, param.dtype());
    DLT_CHECK(copy.shape() == param.shape() && copy.device() == param.device(),
              "{}: low-precision copy {} is {} on {}, its parameter {} on {}", name, i, shape_str(copy.shape()),
              copy.device(), shape_str(param.shape()), param.device());
    DLT_CHECK(copy.is_contiguous(), "{}: low-precision copy {} must be contiguous", name, i);
  }
}

// Runs the fused kernel on the operand layout of optim_ops.h. `states` holds
// the op's state lists in slot order, an empty list for an absent slot.
// Strided parameters are updated through contiguous copies written back
// afterwards.
void run_step(OpId op, std::span<const Tensor> params, std::span<const Tensor> grads,
              std::initializer_list<std::span<const Tensor>> states, std::span<const Tensor> copies,
              const void* attrs) {
  check_copies(op, copies, params);
  if (params.empty()) return;
  NoGradGuard no_grad;
  const size_t n = params.size();
  std::vector<Tensor> ins, outs, work;
  ins.reserve(n);
  outs.reserve(n * size_t(optim_slots(int(states.size()))));
  work.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ins.push_back(grads[i].contiguous());
    work.push_back(params[i].contiguous());
    outs.push_back(work.back());
    for (const std::span<const Tensor>& list : states)
      outs.push_back(list.empty() ? Tensor() : list[i]);
    outs.push_back(copies.empty() ? Tensor() : copies[i]);
  }
  ops::run(op, ins, outs, attrs);
  for (size_t i = 0; i < n; ++i) {
    if (!work[i].is_same(params[i])) {
      Tensor target = params[i];
      target.copy_(work[i]);
    }
    params[i].storage()->bump_version();
    if (!copies.empty()) copies[i].storage()->bump_version();
  }
}

// A single operand as a list of one, an undefined one as an empty list.
std::span<const Tensor> one(const Tensor& t) {
  return t.defined() ? std::span<const Tensor>(&t, 1) : std::span<const Tensor>();
}

}  // namespace

void sgd_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
               std::span<const Tensor> momentum_buffers, const ops::SgdStepAttrs& attrs,
               std::span<const Tensor> copies) {
  check_params(OpId::sgd_step, params, grads);
  check_state(OpId::sgd_step, "momentum_buffer", momentum_buffers, attrs.momentum != 0, params);
  static_assert(kSgdStateSlots == 1);
  run_step(OpId::sgd_step, params, grads, {momentum_buffers}, copies, &attrs);
}

void adam_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
                std::span<const Tensor> exp_avgs, std::span<const Tensor> exp_avg_sqs,
                const ops::AdamStepAttrs& attrs, std::span<const Tensor> copies) {
  check_params(OpId::adam_step, params, grads);
  check_state(OpId::adam_step, "exp_avg", exp_avgs, true, params);
  check_state(OpId::adam_step, "exp_avg_sq", exp_avg_sqs, true, params);
  DLT_CHECK(attrs.step >= 1, "adam_step: step must be at least 1, got {}", attrs.step);
  static_assert(kAdamStateSlots == 2);
  run_step(OpId::adam_step, params, grads, {exp_avgs, exp_avg_sqs}, copies, &attrs);
}

void rmsprop_step_(std::span<const Tensor> params, std::span<const Tensor> grads,
                   std::span<const Tensor> square_avgs, std::span<const Tensor> momentum_buffers,
                   std::span<const Tensor> grad_avgs, const ops::RmspropStepAttrs& attrs,
                   std::span<const Tensor> copies) {
  check_params(OpId::rmsprop_step, params, grads);
  check_state(OpId::rmsprop_step, "square_avg", square_avgs, true, params);
  check_state(OpId::rmsprop_step, "momentum_buffer", momentum_buffers, attrs.momentum > 0, params);
  check_state(OpId::rmsprop_step, "grad_avg", grad_avgs, attrs.centered, params);
  static_assert(kRmspropStateSlots == 3);
  run_step(OpId::rmsprop_step, params, grads, {square_avgs, momentum_buffers, grad_avgs}, copies,
           &attrs);
}

Tensor sum_squares(std::span<const Tensor> tensors) {
  for (size_t i = 0; i < tensors.size(); ++i)
    DLT_CHECK(tensors[i].defined(), "sum_squares: tensor {} is undefined", i);
  const Device device = tensors.empty() ? Device::cpu() : tensors[0].device();
  Tensor sums = empty({int64_t(tensors.size())}, TensorOptions(DType::f64).device(device));
  if (tensors.empty()) return sums;
  NoGradGuard no_grad;
  std::vector<Tensor> ins;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DLT_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64,
              "sum_squares: tensor {} is {}; it sums float32 or float64 tensors", i, t.dtype());
    DLT_CHECK(t.device() == device, "sum_squares: tensor {} is on {}, tensor 0 on {}", i,
              t.device(), device);
    ins.push_back(t.contiguous());
  }
  Tensor outs[] = {sums};
  ops::run(OpId::sum_squares, ins, outs, nullptr);
  return sums;
}

Tensor unscale_check_(std::span<const Tensor> grads, double inv_scale) {
  const Device device = grads.empty() ? Device::cpu() : grads[0].device();
  Tensor found = zeros({1}, TensorOptions(DType::f32).device(device));
  if (grads.empty()) return found;
  NoGradGuard no_grad;
  std::vector<Tensor> outs{found}, work;
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    DLT_CHECK(g.defined(), "unscale_check: gradient {} is undefined", i);
    DLT_CHECK(g.dtype() == DType::f32 || g.dtype() == DType::f64,
              "unscale_check: gradient {} is {}; loss scaling unscales f32 or f64 gradients (master weights)", i,
              g.dtype());
    DLT_CHECK(g.device() == device, "unscale_check: gradient {} is on {}, gradient 0 on {}", i, g.device(), device);
    work.push_back(g.contiguous());
    outs.push_back(work.back());
  }
  const ops::UnscaleAttrs attrs{inv_scale};
  ops::run_no_inputs(OpId::unscale_check, outs, &attrs);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!work[i].is_same(grads[i])) {
      Tensor target = grads[i];
      target.copy_(work[i]);
    }
    grads[i].storage()->bump_version();
  }
  return found;
}

void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const ops::SgdStepAttrs& attrs) {
  sgd_step_({&param, 1}, {&grad, 1}, one(momentum_buffer), attrs);
}

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const ops::AdamStepAttrs& attrs) {
  adam_step_({&param, 1}, {&grad, 1}, one(exp_avg), one(exp_avg_sq), attrs);
}

void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& momentum_buffer, const Tensor& grad_avg,
                   const ops::RmspropStepAttrs& attrs) {
  rmsprop_step_({&param, 1}, {&grad, 1}, one(square_avg), one(momentum_buffer), one(grad_avg),
                attrs);
}

}  // namespace dlt
