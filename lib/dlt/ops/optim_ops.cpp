#include "dlt/ops/optim_ops.h"

#include <vector>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

void check_param(OpId op, const Tensor& param, const Tensor& grad) {
  DLT_CHECK(param.defined() && grad.defined(), "{}: parameter and gradient must be defined",
            ops::op_name(op));
  DLT_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
            "{}: parameters of dtype {} are not supported (f32, f64)", ops::op_name(op),
            param.dtype());
  DLT_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype(),
            "{}: gradient {} {} does not match parameter {} {}", ops::op_name(op),
            shape_str(grad.shape()), grad.dtype(), shape_str(param.shape()), param.dtype());
}

// A state buffer must be present exactly when the options need it, and be a
// contiguous tensor like the parameter (the kernel walks all three in step).
void check_state(OpId op, const char* name, const Tensor& state, bool needed, const Tensor& param) {
  if (!needed) {
    DLT_CHECK(!state.defined(), "{}: {} given but not used by these options", ops::op_name(op),
              name);
    return;
  }
  DLT_CHECK(state.defined(), "{}: {} is required by these options", ops::op_name(op), name);
  DLT_CHECK(state.shape() == param.shape() && state.dtype() == param.dtype(),
            "{}: {} {} {} does not match parameter {} {}", ops::op_name(op), name,
            shape_str(state.shape()), state.dtype(), shape_str(param.shape()), param.dtype());
  DLT_CHECK(state.is_contiguous(), "{}: {} must be contiguous", ops::op_name(op), name);
}

// Runs the fused kernel: in = {grad}, out = {param, state...}. A strided
// parameter is updated through a contiguous copy written back afterwards.
void run_step(OpId op, const Tensor& param, const Tensor& grad, std::vector<Tensor> state,
              const void* attrs) {
  NoGradGuard no_grad;
  const Tensor work = param.is_contiguous() ? param : param.contiguous();
  Tensor ins[] = {grad.contiguous()};
  std::vector<Tensor> outs{work};
  outs.insert(outs.end(), state.begin(), state.end());
  ops::run(op, ins, outs, attrs);
  if (!work.is_same(param)) {
    Tensor target = param;
    target.copy_(work);
  }
  param.storage()->bump_version();
}

}  // namespace

void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const ops::SgdStepAttrs& attrs) {
  check_param(OpId::sgd_step, param, grad);
  check_state(OpId::sgd_step, "momentum_buffer", momentum_buffer, attrs.momentum != 0, param);
  run_step(OpId::sgd_step, param, grad, {momentum_buffer}, &attrs);
}

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const ops::AdamStepAttrs& attrs) {
  check_param(OpId::adam_step, param, grad);
  check_state(OpId::adam_step, "exp_avg", exp_avg, true, param);
  check_state(OpId::adam_step, "exp_avg_sq", exp_avg_sq, true, param);
  DLT_CHECK(attrs.step >= 1, "adam_step: step must be at least 1, got {}", attrs.step);
  run_step(OpId::adam_step, param, grad, {exp_avg, exp_avg_sq}, &attrs);
}

void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& momentum_buffer, const Tensor& grad_avg,
                   const ops::RmspropStepAttrs& attrs) {
  check_param(OpId::rmsprop_step, param, grad);
  check_state(OpId::rmsprop_step, "square_avg", square_avg, true, param);
  check_state(OpId::rmsprop_step, "momentum_buffer", momentum_buffer, attrs.momentum > 0, param);
  check_state(OpId::rmsprop_step, "grad_avg", grad_avg, attrs.centered, param);
  run_step(OpId::rmsprop_step, param, grad, {square_avg, momentum_buffer, grad_avg}, &attrs);
}

}  // namespace dlt
