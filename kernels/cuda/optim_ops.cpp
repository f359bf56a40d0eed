// Registers the fused optimizer updates of optim.cu (operands as in
// kernels/cpu/optim.cpp: in grad; out param and its state, contiguous).
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// Element pointer of a defined operand, nullptr for an absent one.
void* elements(const Tensor& t) { return t.defined() && t.numel() > 0 ? t.raw_data() : nullptr; }

DTypeCode param_dtype(const KernelCall& c, const char* name) {
  const Tensor& p = c.out[0];
  DLT_ASSERT(p.dtype() == DType::f32 || p.dtype() == DType::f64, "{} on a {} parameter", name,
             p.dtype());
  return dtype_code(p.dtype());
}

void sgd_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::SgdStepAttrs>();
  const SgdScalars s{a.lr, a.momentum, a.dampening, a.weight_decay, a.nesterov, a.first_step};
  launch_sgd_step(param_dtype(c, "sgd_step"), c.out[0].numel(), elements(c.in[0]),
                  elements(c.out[0]), elements(c.out[1]), s, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(sgd_step, sgd_step_kernel);

void adam_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::AdamStepAttrs>();
  const AdamScalars s{a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled_weight_decay,
                      a.step};
  launch_adam_step(param_dtype(c, "adam_step"), c.out[0].numel(), elements(c.in[0]),
                   elements(c.out[0]), elements(c.out[1]), elements(c.out[2]), s,
                   stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(adam_step, adam_step_kernel);

void rmsprop_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RmspropStepAttrs>();
  const RmspropScalars s{a.lr, a.alpha, a.eps, a.weight_decay, a.momentum, a.centered};
  launch_rmsprop_step(param_dtype(c, "rmsprop_step"), c.out[0].numel(), elements(c.in[0]),
                      elements(c.out[0]), elements(c.out[1]), elements(c.out[2]),
                      elements(c.out[3]), s, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(rmsprop_step, rmsprop_step_kernel);

}  // namespace
}  // namespace dlt::gpu
