// Registers the fused optimizer updates of optim.cu. Operands as in
// dlt/ops/optim_ops.h: in = the gradients; out = each parameter followed by
// its state slots and its low-precision copy, contiguous, one dtype and
// device (the op layer checks).
#include <optional>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"
#include "dlt/ops/optim_ops.h"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// Element pointer of a defined operand, nullptr for an absent or empty one.
void* elements(const Tensor& t) { return t.defined() && t.numel() > 0 ? t.raw_data() : nullptr; }

DTypeCode param_dtype(const KernelCall& c, const char* name) {
  const Tensor& p = c.out[0];
  DLT_ASSERT(p.dtype() == DType::f32 || p.dtype() == DType::f64, "{} on a {} parameter", name,
             p.dtype());
  return dtype_code(p.dtype());
}

// Each parameter's pointers: out[i * optim_slots(slots)] is parameter i, its
// state follows, then its copy.
std::vector<OptimTensors> optim_tensors(const KernelCall& c, int slots) {
  const size_t width = size_t(optim_slots(slots));
  DLT_ASSERT(c.out.size() == c.in.size() * width, "{}: {} outputs for {} gradients",
             ops::op_name(c.op), c.out.size(), c.in.size());
  std::vector<OptimTensors> tensors(c.in.size());
  for (size_t i = 0; i < c.in.size(); ++i) {
    const std::span<Tensor> out = c.out.subspan(i * width, width);
    OptimTensors& t = tensors[i];
    t.numel = out[0].numel();
    t.grad = elements(c.in[i]);
    t.param = elements(out[0]);
    for (int k = 0; k < slots; ++k) t.state[k] = elements(out[1 + size_t(k)]);
    t.copy = elements(out[width - 1]);
  }
  return tensors;
}

// The dtype of the call's copies (all alike, the op layer checks), if any.
std::optional<DTypeCode> copy_dtype(const KernelCall& c, int slots) {
  const Tensor& copy = c.out[size_t(optim_slots(slots)) - 1];
  return copy.defined() ? std::optional(dtype_code(copy.dtype())) : std::nullopt;
}

void sgd_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::SgdStepAttrs>();
  const SgdScalars s{a.lr, a.momentum, a.dampening, a.weight_decay, a.nesterov, a.first_step};
  launch_sgd_step(param_dtype(c, "sgd_step"), copy_dtype(c, kSgdStateSlots),
                  optim_tensors(c, kSgdStateSlots), s, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(sgd_step, sgd_step_kernel);

void adam_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::AdamStepAttrs>();
  const AdamScalars s{a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled_weight_decay,
                      a.step};
  launch_adam_step(param_dtype(c, "adam_step"), copy_dtype(c, kAdamStateSlots),
                   optim_tensors(c, kAdamStateSlots), s, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(adam_step, adam_step_kernel);

void rmsprop_step_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RmspropStepAttrs>();
  const RmspropScalars s{a.lr, a.alpha, a.eps, a.weight_decay, a.momentum, a.centered};
  launch_rmsprop_step(param_dtype(c, "rmsprop_step"), copy_dtype(c, kRmspropStateSlots),
                      optim_tensors(c, kRmspropStateSlots), s, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(rmsprop_step, rmsprop_step_kernel);

// out: found_inf, then the gradients; one multi-tensor pass per run of
// gradients of one dtype.
void unscale_check_kernel(const KernelCall& c) {
  float* found = static_cast<float*>(c.out[0].raw_data());
  const double inv_scale = c.attrs<ops::UnscaleAttrs>().inv_scale;
  for (size_t begin = 1; begin < c.out.size();) {
    const DType dtype = c.out[begin].dtype();
    std::vector<void*> grads;
    std::vector<int64_t> sizes;
    size_t end = begin;
    for (; end < c.out.size() && c.out[end].dtype() == dtype; ++end) {
      grads.push_back(elements(c.out[end]));
      sizes.push_back(c.out[end].numel());
    }
    launch_unscale_check(dtype_code(dtype), grads, sizes, found, inv_scale, stream_for(c.out[0]));
    begin = end;
  }
}
DLT_REGISTER_GPU_KERNEL(unscale_check, unscale_check_kernel);

// in: the tensors; out: their sums of squares (f64). Built from the device's
// own elementwise and reduction kernels, one of each per tensor.
void sum_squares_kernel(const KernelCall& c) {
  for (size_t i = 0; i < c.in.size(); ++i) {
    const Tensor& t = c.in[i];
    c.out[0].select(0, int64_t(i)).copy_(sum(t * t).to(DType::f64));
  }
}
DLT_REGISTER_GPU_KERNEL(sum_squares, sum_squares_kernel);

}  // namespace
}  // namespace dlt::gpu
