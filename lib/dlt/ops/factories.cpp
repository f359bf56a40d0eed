// Tensor factories: constants, ranges, identity, random numbers, host data.
#include <cmath>
#include <cstring>

#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

Tensor fill_new(const Shape& shape, Scalar value, TensorOptions options) {
  Tensor t = empty(shape, options.requires_grad(false));
  const ops::ScalarAttrs attrs{value.to_double()};
  Tensor outs[] = {t};
  ops::run_no_inputs(OpId::fill, outs, &attrs);
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor random_new(OpId op, const Shape& shape, double a, double b, TensorOptions options,
                  Generator* gen) {
  Tensor t = empty(shape, options.requires_grad(false));
  const DrawPosition at = reserve_draw(gen, uint64_t(t.numel()));
  ops::RandomAttrs attrs{a, b, at.seed, at.offset};
  Tensor outs[] = {t};
  ops::run_no_inputs(op, outs, &attrs);
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

}  // namespace

Tensor zeros(const Shape& shape, TensorOptions options) { return fill_new(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return fill_new(shape, 1, options); }
Tensor full(const Shape& shape, Scalar value, TensorOptions options) {
  return fill_new(shape, value, options);
}
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), TensorOptions(t.dtype()).device(t.device())); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), TensorOptions(t.dtype()).device(t.device())); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), TensorOptions(t.dtype()).device(t.device())); }
Tensor scalar_tensor(Scalar value, TensorOptions options) { return fill_new({}, value, options); }

Tensor arange(Scalar end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  DLT_CHECK(st != 0, "arange: step must be nonzero");
  DLT_CHECK(std::isfinite(s) && std::isfinite(e), "arange: start and end must be finite");
  DLT_CHECK((e - s) / st >= 0, "arange: upper bound and larger bound inconsistent with step sign");
  const int64_t n = int64_t(std::ceil((e - s) / st));
  Tensor t = empty({n}, options.requires_grad(false));
  const ops::RangeAttrs attrs{s, st, e, false};
  Tensor outs[] = {t};
  ops::run_no_inputs(OpId::range, outs, &attrs);
  return t;
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  DLT_CHECK(steps >= 0, "linspace: number of steps must be non-negative (got {})", steps);
  Tensor t = empty({steps}, options.requires_grad(false));
  const double step = steps > 1 ? (end - start) / double(steps - 1) : 0;
  const ops::RangeAttrs attrs{start, step, end, true};
  Tensor outs[] = {t};
  ops::run_no_inputs(OpId::range, outs, &attrs);
  return t;
}

Tensor eye(int64_t n, TensorOptions options) {
  DLT_CHECK(n >= 0, "eye: n must be non-negative (got {})", n);
  Tensor t = zeros({n, n}, options.requires_grad(false));
  // The diagonal is a strided view with stride n + 1.
  make_view(t, {n}, {n + 1}, 0).fill_(1);
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_new(OpId::uniform, shape, 0, 1, options, gen);
}
Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_new(OpId::normal, shape, 0, 1, options, gen);
}
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options, Generator* gen) {
  DLT_CHECK(low <= high, "uniform: low ({}) must not exceed high ({})", low, high);
  return random_new(OpId::uniform, shape, low, high, options, gen);
}
Tensor normal(const Shape& shape, double mean, double std, TensorOptions options, Generator* gen) {
  DLT_CHECK(std >= 0, "normal: std must be non-negative (got {})", std);
  return random_new(OpId::normal, shape, mean, std, options, gen);
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options,
               Generator* gen) {
  DLT_CHECK(low < high, "randint: low ({}) must be less than high ({})", low, high);
  return random_new(OpId::randint, shape, double(low), double(high), options, gen);
}

Tensor from_blob(const void* host, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.numel() > 0) std::memcpy(t.raw_data(), host, size_t(t.numel()) * dtype_size(dtype));
  return t;
}

template <class T> Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  DLT_CHECK(int64_t(values.size()) == numel_of(shape),
            "from_vector: {} values for shape {} ({} elements)", values.size(), shape_str(shape),
            numel_of(shape));
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(values.begin(), values.end());
    return from_blob(bytes.data(), shape, DType::boolean);
  } else {
    return from_blob(values.data(), shape, dtype_of<T>());
  }
}
#define X(name, type, str) template Tensor from_vector<type>(const std::vector<type>&, const Shape&);
DLT_DTYPES(X)
#undef X

}  // namespace dlt
