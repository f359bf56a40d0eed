// softmax / log_softmax over one dim, and their fused backward kernels.
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

Tensor softmax_like(OpId op, const Tensor& x, int64_t dim) {
  const char* name = ops::op_name(op);
  DLT_CHECK(x.defined(), "{}: undefined input tensor", name);
  if (const auto c = ops::autocast<1>(op, {x})) return softmax_like(op, (*c)[0], dim);
  DLT_CHECK(is_floating(x.dtype()), "{}: expected a floating point input, got {}", name,
            x.dtype());
  const ops::SoftmaxAttrs attrs{wrap_dim(dim, x.dim(), "softmax dim")};
  Tensor ins[] = {x.contiguous()};
  Tensor outs[] = {empty(x.shape(), TensorOptions(x.dtype()).device(x.device()))};
  ops::run(op, ins, outs, &attrs);
  return outs[0];
}

Tensor softmax_backward_like(OpId op, const Tensor& grad, const Tensor& y, int64_t dim) {
  DLT_CHECK(grad.shape() == y.shape(), "{}: gradient of shape {} does not match output of shape {}",
            ops::op_name(op), shape_str(grad.shape()), shape_str(y.shape()));
  const ops::SoftmaxAttrs attrs{wrap_dim(dim, y.dim(), "softmax dim")};
  Tensor ins[] = {grad.to(y.dtype()).contiguous(), y.contiguous()};
  Tensor outs[] = {empty(y.shape(), TensorOptions(y.dtype()).device(y.device()))};
  ops::run(op, ins, outs, &attrs);
  return outs[0];
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_like(OpId::softmax, x, dim); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_like(OpId::log_softmax, x, dim);
}

namespace ops {

Tensor softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim) {
  return softmax_backward_like(OpId::softmax_backward, grad, y, dim);
}

Tensor log_softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim) {
  return softmax_backward_like(OpId::log_softmax_backward, grad, y, dim);
}

}  // namespace ops
}  // namespace dlt
