// cross_entropy / nll_loss and their backward ops on the GPU. Targets are
// counted and validated on the device first; reading that result back waits
// for the stream, so a bad target raises dlt::Error here, naming it, as on
// the CPU (and mean knows its divisor).
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// input (B, N, d...) or unbatched (N).
ClassLayout layout_of(const Tensor& input) {
  if (input.dim() == 1) return {1, input.size(0), 1};
  ClassLayout l{input.size(0), input.size(1), 1};
  for (int64_t d = 2; d < input.dim(); ++d) l.inner *= input.size(d);
  return l;
}

LossReduction reduction_of(ops::Reduction r) {
  switch (r) {
    case ops::Reduction::none: return LossReduction::none;
    case ops::Reduction::sum: return LossReduction::sum;
    default: return LossReduction::mean;
  }
}

// The common arguments, with the count of non-ignored targets; any other
// target outside [0, N) is a user error.
LossArgs loss_args(const char* op, const Tensor& input_like, const Tensor& target,
                   int64_t ignore_index, double label_smoothing, ops::Reduction reduction) {
  LossArgs a;
  a.layout = layout_of(input_like);
  a.target = target.numel() > 0 ? target.data_ptr<int64_t>() : nullptr;
  a.ignore_index = ignore_index;
  a.label_smoothing = label_smoothing;
  a.reduction = reduction_of(reduction);
  if (a.layout.positions() == 0) return a;
  const Tensor result = empty({3}, TensorOptions(DType::i64).device(target.device()));
  launch_count_targets(a, result.data_ptr<int64_t>(), stream_for(target));
  const Tensor host = result.to(Device::cpu());
  const int64_t* r = host.data_ptr<int64_t>();
  DLT_CHECK(r[1] >= a.layout.positions(),
            "{}: target {} is out of bounds for {} classes (at flat position {}; valid targets "
            "are 0..{} or ignore_index {})",
            op, r[2], a.layout.classes, r[1], a.layout.classes - 1, ignore_index);
  a.count = r[0];
  return a;
}

Tensor loss_scratch(const Tensor& like, const LossArgs& a) {
  return empty({a.layout.positions()}, TensorOptions(DType::f64).device(like.device()));
}

double* data_or_null(const Tensor& t) { return t.numel() > 0 ? t.data_ptr<double>() : nullptr; }

// ins: logits (B, N, d...), target (B, d...); out: loss (none) or 0-dim.
void cross_entropy_kernel(const KernelCall& c) {
  check_dense(c);
  const auto& attrs = c.attrs<ops::CrossEntropyAttrs>();
  const LossArgs a = loss_args("cross_entropy", c.in[0], c.in[1], attrs.ignore_index,
                               attrs.label_smoothing, attrs.reduction);
  const Tensor losses = loss_scratch(c.in[0], a);
  launch_cross_entropy(tensor_arg(c.out[0]), tensor_arg(c.in[0]), a, data_or_null(losses),
                       stream_for(c.in[0]));
}
DLT_REGISTER_GPU_KERNEL(cross_entropy, cross_entropy_kernel);

// ins: grad, logits, target; out: grad of logits.
void cross_entropy_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const auto& attrs = c.attrs<ops::CrossEntropyAttrs>();
  const LossArgs a = loss_args("cross_entropy", c.in[1], c.in[2], attrs.ignore_index,
                               attrs.label_smoothing, attrs.reduction);
  launch_cross_entropy_backward(tensor_arg(c.out[0]), tensor_arg(c.in[0]), tensor_arg(c.in[1]), a,
                                stream_for(c.in[1]));
}
DLT_REGISTER_GPU_KERNEL(cross_entropy_backward, cross_entropy_backward_kernel);

// ins: log_probs (B, N, d...), target (B, d...); out: loss (none) or 0-dim.
void nll_loss_kernel(const KernelCall& c) {
  check_dense(c);
  const auto& attrs = c.attrs<ops::NllAttrs>();
  const LossArgs a =
      loss_args("nll_loss", c.in[0], c.in[1], attrs.ignore_index, 0.0, attrs.reduction);
  const Tensor losses = loss_scratch(c.in[0], a);
  launch_nll_loss(tensor_arg(c.out[0]), tensor_arg(c.in[0]), a, data_or_null(losses),
                  stream_for(c.in[0]));
}
DLT_REGISTER_GPU_KERNEL(nll_loss, nll_loss_kernel);

// ins: grad, target; out: grad of log_probs (its shape gives the layout).
void nll_loss_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const auto& attrs = c.attrs<ops::NllAttrs>();
  const LossArgs a =
      loss_args("nll_loss", c.out[0], c.in[1], attrs.ignore_index, 0.0, attrs.reduction);
  launch_nll_loss_backward(tensor_arg(c.out[0]), tensor_arg(c.in[0]), a, stream_for(c.out[0]));
}
DLT_REGISTER_GPU_KERNEL(nll_loss_backward, nll_loss_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
