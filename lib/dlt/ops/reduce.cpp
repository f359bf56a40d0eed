// Reductions: dims checks, output dtypes and shapes (keepdim), and the
// composites std and norm. Kernels receive canonical dims: wrapped, sorted,
// unique, and spelled out (an empty list from the user means every dim).
#include <algorithm>
#include <cmath>
#include <limits>

#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

Shape canonical_dims(OpId op, const Tensor& x, const Shape& dims) {
  const int64_t nd = x.dim();
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < nd; ++d) out.push_back(d);
    return out;
  }
  const std::string what = fmt::format("{}: dim", ops::op_name(op));
  std::vector<bool> seen(size_t(std::max<int64_t>(nd, 1)), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, nd, what.c_str());
    DLT_CHECK(!seen[size_t(w)], "{}: dim {} appears multiple times in the list of dims {}",
              ops::op_name(op), w, shape_str(dims));
    seen[size_t(w)] = true;
    if (nd > 0) out.push_back(w);  // a 0-dim tensor accepts dim 0 / -1 and reduces nothing
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The result shape: reduced dims become 1 (keepdim) or disappear.
Shape reduced_shape(const Shape& shape, const Shape& dims, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = std::binary_search(dims.begin(), dims.end(), int64_t(d));
    if (!reduced)
      out.push_back(shape[d]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

void check_defined(OpId op, const Tensor& x) {
  DLT_CHECK(x.defined(), "{}: undefined input tensor", ops::op_name(op));
}

void check_floating(OpId op, const Tensor& x) {
  DLT_CHECK(is_floating(x.dtype()),
            "{}(): input must be a floating point tensor to infer the output dtype, got {} "
            "(convert it with .to(DType::f32))",
            ops::op_name(op), x.dtype());
}

// max/min have no identity: every reduced dim must be non-empty.
void check_nonempty_reduction(const char* what, const Tensor& x, const Shape& dims,
                              bool dims_given) {
  if (x.numel() != 0) return;
  DLT_CHECK(dims_given,
            "{}(): cannot reduce an empty tensor of shape {} over all dims (the operation has "
            "no identity); specify the reduction dims",
            what, shape_str(x.shape()));
  for (int64_t d : dims)
    DLT_CHECK(x.shape()[size_t(d)] != 0,
              "{}(): expected reduction dim {} to have non-zero size (input shape {})", what, d,
              shape_str(x.shape()));
}

template <class Attrs> Tensor run_reduce(OpId op, const Tensor& x, const Attrs& attrs, DType out) {
  Tensor ins[] = {x};
  Tensor outs[] = {empty(reduced_shape(x.shape(), attrs.dims, attrs.keepdim), like(x, out))};
  ops::run(op, ins, outs, &attrs);
  return outs[0];
}

Tensor reduce(OpId op, const Tensor& x, const Shape& dims, bool keepdim, DType out) {
  const ops::ReduceAttrs attrs{canonical_dims(op, x, dims), keepdim};
  return run_reduce(op, x, attrs, out);
}

// max/min/argmax/argmin along one dim: (values, indices) or indices only.
std::vector<Tensor> reduce_dim(OpId op, const char* what, const Tensor& x, int64_t dim,
                               bool keepdim, bool with_values) {
  check_defined(op, x);
  const std::string dim_what = fmt::format("{}: dim", what);
  const int64_t d = wrap_dim(dim, x.dim(), dim_what.c_str());
  const Shape dims = x.dim() == 0 ? Shape{} : Shape{d};
  check_nonempty_reduction(what, x, dims, true);
  const ops::ReduceDimAttrs attrs{d, keepdim};
  const Shape shape = reduced_shape(x.shape(), dims, keepdim);
  std::vector<Tensor> outs;
  if (with_values) outs.push_back(empty(shape, like(x, x.dtype())));
  outs.push_back(empty(shape, like(x, DType::i64)));
  // Indices alone carry no gradient: argmax/argmin never record history.
  Tensor ins[] = {with_values ? x : x.detach()};
  ops::run(op, ins, outs, &attrs);
  return outs;
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(OpId::sum, x);
  if (const auto c = ops::autocast<1>(OpId::sum, {x})) return sum((*c)[0], dims, keepdim);
  return reduce(OpId::sum, x, dims, keepdim, is_floating(x.dtype()) ? x.dtype() : DType::i64);
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(OpId::mean, x);
  check_floating(OpId::mean, x);
  return reduce(OpId::mean, x, dims, keepdim, x.dtype());
}

Tensor var(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  check_defined(OpId::var, x);
  if (const auto c = ops::autocast<1>(OpId::var, {x})) return var((*c)[0], dims, correction, keepdim);
  check_floating(OpId::var, x);
  DLT_CHECK(correction >= 0, "var(): correction must be non-negative, got {}", correction);
  const ops::VarAttrs attrs{canonical_dims(OpId::var, x, dims), keepdim, correction};
  return run_reduce(OpId::var, x, attrs, x.dtype());
}

Tensor std(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  check_defined(OpId::std, x);
  if (const auto c = ops::autocast<1>(OpId::std, {x})) return std((*c)[0], dims, correction, keepdim);
  check_floating(OpId::std, x);
  return sqrt(var(x, dims, correction, keepdim));
}

Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(OpId::amax, x);
  const Shape canonical = canonical_dims(OpId::amax, x, dims);
  check_nonempty_reduction("amax", x, canonical, !dims.empty());
  return run_reduce(OpId::amax, x, ops::ReduceAttrs{canonical, keepdim}, x.dtype());
}

Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(OpId::amin, x);
  const Shape canonical = canonical_dims(OpId::amin, x, dims);
  check_nonempty_reduction("amin", x, canonical, !dims.empty());
  return run_reduce(OpId::amin, x, ops::ReduceAttrs{canonical, keepdim}, x.dtype());
}

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  auto outs = reduce_dim(OpId::max_dim, "max", x, dim, keepdim, true);
  return {outs[0], outs[1]};
}

ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  auto outs = reduce_dim(OpId::min_dim, "min", x, dim, keepdim, true);
  return {outs[0], outs[1]};
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(OpId::argmax, x);
  DLT_CHECK(x.dtype() != DType::boolean,
            "argmax(): bool tensors are not supported; convert with .to(DType::i64) first");
  return reduce_dim(OpId::argmax, "argmax", x, dim, keepdim, false)[0];
}

Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(OpId::argmin, x);
  DLT_CHECK(x.dtype() != DType::boolean,
            "argmin(): bool tensors are not supported; convert with .to(DType::i64) first");
  return reduce_dim(OpId::argmin, "argmin", x, dim, keepdim, false)[0];
}

// Integer inputs are promoted to float32, as torch.
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(OpId::logsumexp, x);
  if (const auto c = ops::autocast<1>(OpId::logsumexp, {x})) return logsumexp((*c)[0], dims, keepdim);
  const Tensor in = is_floating(x.dtype()) ? x : x.to(DType::f32);
  return reduce(OpId::logsumexp, in, dims, keepdim, in.dtype());
}

namespace {

// s^(1/p), with gradient 0 where s == 0 (as torch's norm) instead of the
// inf * 0 = nan the plain root would give.
Tensor root_of_power_sum(const Tensor& s, double p) {
  const Tensor at_zero = eq(s.detach(), wrap_scalar(0, s));
  const Tensor safe = masked_fill(s, at_zero, 1);
  return masked_fill(p == 2 ? sqrt(safe) : pow(safe, 1.0 / p), at_zero, 0);
}

}  // namespace

// The vector p-norm (torch.linalg.vector_norm) built from other ops, so its
// gradient comes from theirs.
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  check_defined(OpId::norm, x);
  if (const auto c = ops::autocast<1>(OpId::norm, {x})) return norm((*c)[0], p, dims, keepdim);
  check_floating(OpId::norm, x);
  DLT_CHECK(!std::isnan(p), "norm(): the order p must not be nan");
  if (p == 1) return sum(abs(x), dims, keepdim);
  if (std::isinf(p)) return p > 0 ? amax(abs(x), dims, keepdim) : amin(abs(x), dims, keepdim);
  if (p == 0) return sum(ne(x.detach(), wrap_scalar(0, x)).to(x.dtype()), dims, keepdim);
  if (p == 2) return root_of_power_sum(sum(x * x, dims, keepdim), 2);
  return root_of_power_sum(sum(pow(abs(x), p), dims, keepdim), p);
}

// The gradient of a broadcast: sum over the leading dims `shape` lacks and
// over dims where `shape` has 1. The input itself when nothing is broadcast.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  const Shape& from = x.shape();
  if (from == shape) return x;
  const int64_t lead = x.dim() - int64_t(shape.size());
  DLT_CHECK(lead >= 0, "sum_to: cannot sum a tensor of shape {} to the larger rank shape {}",
            shape_str(from), shape_str(shape));
  Shape dims;
  for (int64_t d = 0; d < lead; ++d) dims.push_back(d);
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t have = from[size_t(lead) + i];
    if (shape[i] == have) continue;
    DLT_CHECK(shape[i] == 1,
              "sum_to: cannot sum a tensor of shape {} to shape {} (dim {}: {} is neither {} nor 1)",
              shape_str(from), shape_str(shape), i, shape[i], have);
    dims.push_back(lead + int64_t(i));
  }
  const Tensor summed = sum(x, dims, /*keepdim=*/true);
  return lead == 0 ? summed : summed.view(shape);
}

}  // namespace dlt
