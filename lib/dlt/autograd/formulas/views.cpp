// Backward formulas of the views: undo the geometry on the gradient.
#include "dlt/autograd/formula.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

// view / reshape / squeeze / unsqueeze: same elements, the input's shape.
DLT_BACKWARD(view, kSaveNothing) { return {ctx.grad().reshape(ctx.input_shape(0))}; }

DLT_BACKWARD(permute, kSaveNothing) {
  const Shape& dims = ctx.attrs<ops::PermuteAttrs>().dims;
  Shape inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[size_t(dims[i])] = int64_t(i);
  return {ctx.grad().permute(inverse)};
}

DLT_BACKWARD(expand, kSaveNothing) { return {sum_to(ctx.grad(), ctx.input_shape(0))}; }

// The slice's elements get the gradient; the rest of the input gets zeros.
DLT_BACKWARD(slice, kSaveNothing) {
  const auto& a = ctx.attrs<ops::SliceAttrs>();
  const Tensor& g = ctx.grad();
  Tensor full = zeros(ctx.input_shape(0), TensorOptions(g.dtype()).device(g.device()));
  full.slice(a.dim, a.start, a.end, a.step).copy_(g);
  return {full};
}

}  // namespace
}  // namespace dlt::autograd
