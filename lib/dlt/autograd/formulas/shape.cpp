// Backward formulas of the shape and indexing ops: each routes the gradient
// back to the input elements the forward read.
#include "dlt/autograd/formula.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

using V = std::vector<Tensor>;

TensorOptions like(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

// Input i gets its slab of the gradient along dim. 1-D empty inputs that cat
// skipped (their rank differs from the result's) get an empty gradient.
DLT_BACKWARD(cat, kSaveNothing) {
  const int64_t dim = ctx.attrs<ops::DimAttrs>().dim;
  const Tensor& g = ctx.grad();
  V grads;
  int64_t start = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& shape = ctx.input_shape(i);
    if (int64_t(shape.size()) != g.dim()) {
      grads.push_back(ctx.needs(i) ? zeros(shape, like(g)) : Tensor());
      continue;
    }
    const int64_t size = shape[size_t(dim)];
    grads.push_back(ctx.needs(i) ? g.narrow(dim, start, size) : Tensor());
    start += size;
  }
  return grads;
}

DLT_BACKWARD(index_select, (Saves{0b10, 0})) {
  const int64_t dim = ctx.attrs<ops::DimAttrs>().dim;
  const Tensor& g = ctx.grad();
  return {index_add(zeros(ctx.input_shape(0), like(g)), dim, ctx.input(1), g), Tensor()};
}

DLT_BACKWARD(gather, (Saves{0b10, 0})) {
  const int64_t dim = ctx.attrs<ops::DimAttrs>().dim;
  const Tensor& g = ctx.grad();
  return {scatter_add(zeros(ctx.input_shape(0), like(g)), dim, ctx.input(1), g), Tensor()};
}

// Inputs (x, index, src). The source elements outside the index's extent
// (index.size(d) < src.size(d)) were not added anywhere: zero gradient.
DLT_BACKWARD(scatter_add, (Saves{0b010, 0})) {
  const int64_t dim = ctx.attrs<ops::DimAttrs>().dim;
  const Tensor& g = ctx.grad();
  const Tensor& index = ctx.input(1);
  Tensor gsrc;
  if (ctx.needs(2)) {
    gsrc = gather(g, dim, index);
    const Shape& src_shape = ctx.input_shape(2);
    if (gsrc.shape() != src_shape) {
      Tensor full = zeros(src_shape, like(g));
      Tensor part = full;
      for (int64_t d = 0; d < index.dim(); ++d) part = part.narrow(d, 0, index.size(d));
      part.copy_(gsrc);
      gsrc = full;
    }
  }
  return {ctx.needs(0) ? g : Tensor(), Tensor(), gsrc};
}

DLT_BACKWARD(tril, kSaveNothing) {
  return {tril(ctx.grad(), ctx.attrs<ops::TriAttrs>().diagonal)};
}
DLT_BACKWARD(triu, kSaveNothing) {
  return {triu(ctx.grad(), ctx.attrs<ops::TriAttrs>().diagonal)};
}

}  // namespace
}  // namespace dlt::autograd
