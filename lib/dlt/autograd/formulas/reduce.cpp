// Backward formulas of the reductions. The forward passes canonical dims
// (wrapped, sorted, spelled out), so a gradient of the reduced shape is
// brought back to the input's shape by unsqueezing the reduced dims (when
// keepdim was off) and broadcasting.
#include "dlt/autograd/formula.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

// g with the reduced dims restored as size 1, ready to broadcast against x.
Tensor unsqueeze_reduced(const Tensor& g, const Shape& dims, bool keepdim) {
  if (keepdim) return g;
  Tensor out = g;
  for (int64_t d : dims) out = out.unsqueeze(d);  // ascending, so each d is final
  return out;
}

// How many input elements each output element reduced.
int64_t reduced_count(const Shape& input_shape, const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= input_shape[size_t(d)];
  return n;
}

DLT_BACKWARD(sum, kSaveNothing) {
  const auto& a = ctx.attrs<ops::ReduceAttrs>();
  return {unsqueeze_reduced(ctx.grad(), a.dims, a.keepdim).expand(ctx.input_shape(0))};
}

DLT_BACKWARD(mean, kSaveNothing) {
  const auto& a = ctx.attrs<ops::ReduceAttrs>();
  const double count = double(reduced_count(ctx.input_shape(0), a.dims));
  return {(unsqueeze_reduced(ctx.grad(), a.dims, a.keepdim) / count).expand(ctx.input_shape(0))};
}

// d var / dx = 2 (x - mean) / (N - correction)
DLT_BACKWARD(var, kSaveInputs) {
  const auto& a = ctx.attrs<ops::VarAttrs>();
  const Tensor& x = ctx.input(0);
  const double divisor =
      std::max(0.0, double(reduced_count(x.shape(), a.dims)) - a.correction);
  const Tensor centered = x - mean(x, a.dims, /*keepdim=*/true);
  return {centered * (unsqueeze_reduced(ctx.grad(), a.dims, a.keepdim) * (2.0 / divisor))};
}

// The gradient goes to the elements equal to the extreme value, split evenly
// among ties (as torch.amax).
std::vector<Tensor> extremum_backward(const BackwardContext& ctx) {
  const auto& a = ctx.attrs<ops::ReduceAttrs>();
  const Tensor& x = ctx.input(0);
  const Tensor hits =
      eq(x, unsqueeze_reduced(ctx.output(0), a.dims, a.keepdim)).to(x.dtype());
  const Tensor share =
      unsqueeze_reduced(ctx.grad(), a.dims, a.keepdim) / sum(hits, a.dims, /*keepdim=*/true);
  return {hits * share};
}
DLT_BACKWARD(amax, kSaveAll) { return extremum_backward(ctx); }
DLT_BACKWARD(amin, kSaveAll) { return extremum_backward(ctx); }

// The gradient goes to the position of the index: a one-hot mask along dim
// built by comparing an arange with the indices.
std::vector<Tensor> indexed_extremum_backward(const BackwardContext& ctx) {
  const auto& a = ctx.attrs<ops::ReduceDimAttrs>();
  const Shape& shape = ctx.input_shape(0);
  if (shape.empty()) return {ctx.grad()};  // a 0-dim input is its own max
  const Shape dims{a.dim};
  Shape positions_shape(shape.size(), 1);  // [1, .., K, .., 1]
  positions_shape[size_t(a.dim)] = shape[size_t(a.dim)];
  const Tensor positions =
      arange(shape[size_t(a.dim)], TensorOptions(DType::i64).device(ctx.grad().device()))
          .view(positions_shape);
  const Tensor hit = eq(positions, unsqueeze_reduced(ctx.output(1), dims, a.keepdim));
  const Tensor g = unsqueeze_reduced(ctx.grad(), dims, a.keepdim);
  return {where(hit, g, wrap_scalar(0, g))};
}
constexpr Saves kSaveIndices{0, 0b10, 1};  // only the values are differentiable
DLT_BACKWARD(max_dim, kSaveIndices) { return indexed_extremum_backward(ctx); }
DLT_BACKWARD(min_dim, kSaveIndices) { return indexed_extremum_backward(ctx); }

// d/dx log sum exp(x) = exp(x - logsumexp(x))
DLT_BACKWARD(logsumexp, kSaveAll) {
  const auto& a = ctx.attrs<ops::ReduceAttrs>();
  const Tensor& x = ctx.input(0);
  const Tensor out = unsqueeze_reduced(ctx.output(0), a.dims, a.keepdim);
  return {unsqueeze_reduced(ctx.grad(), a.dims, a.keepdim) * exp(x - out)};
}

}  // namespace
}  // namespace dlt::autograd
