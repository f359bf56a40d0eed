// layer_norm / rms_norm / batch_norm and their backward ops on the GPU: geometry from
// the shapes, device scratch for the column / channel partial sums, and the
// launchers of norm.h. The op layer hands contiguous inputs.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/norm.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// An absent tensor (optional input, unwanted output) as a TensorArg with null data.
TensorArg arg_or_null(const Tensor& t) { return t.defined() ? tensor_arg(t) : TensorArg{}; }

DType acc_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

Tensor scratch(int64_t elements, const Tensor& like) {
  return empty({elements}, TensorOptions(acc_dtype(like.dtype())).device(like.device()));
}

void check_floating(const Tensor& x, const char* op) {
  DLT_CHECK(is_floating(x.dtype()), "{} expects a floating point input, got {}", op, x.dtype());
}

// ---- layer norm ------------------------------------------------------------------

// ins: x, weight, bias (optional); outs: y, mean, rstd (M rows).
void layer_norm_kernel(const KernelCall& c) {
  check_dense(c);
  check_floating(c.in[0], "layer_norm");
  LayerNormArgs a;
  a.rows = c.out[1].numel();
  a.cols = a.rows > 0 ? c.in[0].numel() / a.rows : 0;
  a.eps = c.attrs<ops::LayerNormAttrs>().eps;
  launch_layer_norm(tensor_arg(c.out[0]), tensor_arg(c.out[1]), tensor_arg(c.out[2]),
                    tensor_arg(c.in[0]), arg_or_null(c.in[1]), arg_or_null(c.in[2]), a,
                    stream_for(c.in[0]));
}
DLT_REGISTER_GPU_KERNEL(layer_norm, layer_norm_kernel);

// ins: grad, x, mean, rstd, weight (optional); outs: grad_x, grad_weight,
// grad_bias, each absent when not wanted.
void layer_norm_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const Tensor& x = c.in[1];
  check_floating(x, "layer_norm_backward");
  LayerNormArgs a;
  a.rows = c.in[2].numel();
  a.cols = a.rows > 0 ? x.numel() / a.rows
                      : (c.out[1].defined() ? c.out[1].numel()
                                            : c.out[2].defined() ? c.out[2].numel() : 0);
  const bool affine = c.out[1].defined() || c.out[2].defined();
  const Tensor workspace = affine && a.rows > 0
                               ? scratch(layer_norm_workspace_elements(a.rows, a.cols), x)
                               : Tensor();
  launch_layer_norm_backward(arg_or_null(c.out[0]), arg_or_null(c.out[1]), arg_or_null(c.out[2]),
                             tensor_arg(c.in[0]), tensor_arg(x), tensor_arg(c.in[2]),
                             tensor_arg(c.in[3]), arg_or_null(c.in[4]), a,
                             workspace.defined() ? workspace.raw_data() : nullptr,
                             stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(layer_norm_backward, layer_norm_backward_kernel);

// ---- RMS norm: layer norm's kernels, not centred ----------------------------------

// ins: x, weight (optional); outs: y, rstd (M rows).
void rms_norm_kernel(const KernelCall& c) {
  check_dense(c);
  check_floating(c.in[0], "rms_norm");
  LayerNormArgs a;
  a.rows = c.out[1].numel();
  a.cols = a.rows > 0 ? c.in[0].numel() / a.rows : 0;
  a.eps = c.attrs<ops::LayerNormAttrs>().eps;
  a.centered = false;
  launch_layer_norm(tensor_arg(c.out[0]), TensorArg{}, tensor_arg(c.out[1]), tensor_arg(c.in[0]),
                    arg_or_null(c.in[1]), TensorArg{}, a, stream_for(c.in[0]));
}
DLT_REGISTER_GPU_KERNEL(rms_norm, rms_norm_kernel);

// ins: grad, x, rstd, weight (optional); outs: grad_x, grad_weight, each
// absent when not wanted.
void rms_norm_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const Tensor& x = c.in[1];
  check_floating(x, "rms_norm_backward");
  LayerNormArgs a;
  a.rows = c.in[2].numel();
  a.cols = a.rows > 0 ? x.numel() / a.rows : (c.out[1].defined() ? c.out[1].numel() : 0);
  a.centered = false;
  const Tensor workspace = c.out[1].defined() && a.rows > 0
                               ? scratch(layer_norm_workspace_elements(a.rows, a.cols), x)
                               : Tensor();
  launch_layer_norm_backward(arg_or_null(c.out[0]), arg_or_null(c.out[1]), TensorArg{},
                             tensor_arg(c.in[0]), tensor_arg(x), TensorArg{}, tensor_arg(c.in[2]),
                             arg_or_null(c.in[3]), a,
                             workspace.defined() ? workspace.raw_data() : nullptr, stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(rms_norm_backward, rms_norm_backward_kernel);

// ---- batch norm --------------------------------------------------------------------

BatchNormArgs batch_args(const Tensor& x, const ops::BatchNormAttrs& attrs) {
  BatchNormArgs a;
  a.batch = x.size(0);
  a.channels = x.size(1);
  a.spatial = a.batch * a.channels > 0 ? x.numel() / (a.batch * a.channels) : 0;
  a.training = attrs.training;
  a.momentum = attrs.momentum;
  a.eps = attrs.eps;
  return a;
}

// ins: x, running_mean, running_var, weight, bias (all but x optional);
// outs: y, save_mean, save_invstd.
void batch_norm_kernel(const KernelCall& c) {
  check_dense(c);
  const Tensor& x = c.in[0];
  check_floating(x, "batch_norm");
  const BatchNormArgs a = batch_args(x, c.attrs<ops::BatchNormAttrs>());
  const Tensor workspace = scratch(batch_norm_workspace_elements(a), x);
  launch_batch_norm(tensor_arg(c.out[0]), tensor_arg(c.out[1]), tensor_arg(c.out[2]),
                    tensor_arg(x), arg_or_null(c.in[1]), arg_or_null(c.in[2]),
                    arg_or_null(c.in[3]), arg_or_null(c.in[4]), a,
                    workspace.numel() > 0 ? workspace.raw_data() : nullptr, stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(batch_norm, batch_norm_kernel);

// ins: grad, x, weight (optional), save_mean, save_invstd; outs: grad_x,
// grad_weight, grad_bias, each absent when not wanted.
void batch_norm_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const Tensor& x = c.in[1];
  check_floating(x, "batch_norm_backward");
  const BatchNormArgs a = batch_args(x, c.attrs<ops::BatchNormAttrs>());
  const Tensor workspace = scratch(batch_norm_workspace_elements(a), x);
  launch_batch_norm_backward(arg_or_null(c.out[0]), arg_or_null(c.out[1]), arg_or_null(c.out[2]),
                             tensor_arg(c.in[0]), tensor_arg(x), arg_or_null(c.in[2]),
                             tensor_arg(c.in[3]), tensor_arg(c.in[4]), a,
                             workspace.numel() > 0 ? workspace.raw_data() : nullptr,
                             stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(batch_norm_backward, batch_norm_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
