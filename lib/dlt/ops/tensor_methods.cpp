// Tensor's conversion, element access and in-place methods.
#include <cstring>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

// Runs the copy kernel into an existing tensor without recording history.
void copy_into(Tensor& dst, const Tensor& src) {
  Tensor ins[] = {src};
  Tensor outs[] = {dst};
  NoGradGuard no_grad;
  ops::run(OpId::copy, ins, outs, nullptr);
}

Tensor copy_to_new(const Tensor& x, DType dtype, Device device) {
  Tensor ins[] = {x};
  Tensor outs[] = {empty(x.shape(), TensorOptions(dtype).device(device))};
  ops::run(OpId::copy, ins, outs, nullptr);
  return outs[0];
}

// In-place update of `self` by `fast` (a kernel writing into self). When
// autograd must see it, the new value is computed out of place by `slow`
// from a clone of self (which keeps self's old history), written back, and
// self takes the result's history, as torch rebases a tensor's grad_fn.
template <class Fast, class Slow>
Tensor& apply_inplace(Tensor& self, std::initializer_list<Tensor> others, const char* what,
                      Fast fast, Slow slow) {
  bool record = GradMode::enabled() && self.requires_grad();
  for (const Tensor& o : others) record = record || (GradMode::enabled() && o.requires_grad());
  if (!record) {
    fast();
    self.storage()->bump_version();
    return self;
  }
  DLT_CHECK(!self.is_leaf() || !self.requires_grad(),
            "a leaf tensor that requires grad is being used in an in-place operation ({}); wrap "
            "it in NoGradGuard or use the out-of-place op",
            what);
  DLT_CHECK(!self.is_view(),
            "in-place {} on a view, where autograd is involved, is not supported; use the "
            "out-of-place op",
            what);
  Tensor result = slow(self.clone());
  copy_into(self, result);
  self.storage()->bump_version();
  if (!result.requires_grad()) return self;  // e.g. an integer tensor: no history
  AutogradMeta& meta = self.impl()->autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = result.grad_fn();
  meta.output_nr = result.output_nr();
  if (meta.retains_grad) self.retain_grad();  // follow the new grad_fn
  return self;
}

// The value `src` everywhere (broadcast), as an op whose backward sends the
// gradient to src and none to `old`; old * 0 + src would turn inf into nan.
Tensor replaced_by(const Tensor& old, const Tensor& src) {
  const Tensor everywhere = ones(old.shape(), TensorOptions(DType::boolean).device(old.device()));
  return where(everywhere, src.to(old.dtype()), old);
}

// In-place writes must not read what they overwrite in another order, and
// must not write one element through two indices (an expanded tensor).
void check_writable(const Tensor& dst, const char* what) {
  for (int64_t d = 0; d < dst.dim(); ++d)
    DLT_CHECK(dst.stride(d) != 0 || dst.size(d) <= 1,
              "{}: unsupported operation: more than one element of the written-to tensor refers "
              "to a single memory location (an expanded tensor); clone() it first",
              what);
}

// The range of storage elements a tensor touches.
std::pair<int64_t, int64_t> storage_span(const Tensor& t) {
  int64_t lo = t.offset(), hi = t.offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t extent = (t.size(d) - 1) * t.stride(d);
    (extent < 0 ? lo : hi) += extent;
  }
  return {lo, hi};
}

void check_no_partial_overlap(const Tensor& dst, const Tensor& src, const char* what) {
  if (dst.numel() == 0 || src.numel() == 0 || dst.storage() != src.storage()) return;
  const bool same_geometry = dst.offset() == src.offset() && dst.shape() == src.shape() &&
                             dst.strides() == src.strides() && dst.dtype() == src.dtype();
  if (same_geometry) return;  // elementwise in place: each element read, then written
  const auto [dlo, dhi] = storage_span(dst);
  const auto [slo, shi] = storage_span(src);
  DLT_CHECK(dhi < slo || shi < dlo,
            "{}: unsupported operation: some elements of the input tensor and the written-to "
            "tensor refer to a single memory location; clone() the input first",
            what);
}

// Checks that `other` broadcasts to self and its dtype can be written to self.
void check_inplace_operand(const Tensor& self, const Tensor& other, const char* what) {
  check_writable(self, what);
  check_no_partial_overlap(self, other, what);
  DLT_CHECK(broadcast_shapes(self.shape(), other.shape()) == self.shape(),
            "{}: the operand of shape {} does not broadcast to the tensor's shape {}", what,
            shape_str(other.shape()), shape_str(self.shape()));
  const DType rt = result_type(self, other);
  DLT_CHECK(rt == self.dtype() || !(is_floating(rt) && !is_floating(self.dtype())),
            "{}: result type {} can't be cast to the desired output type {}", what, rt,
            self.dtype());
}

template <class Attrs>
void run_binary_into(Tensor& self, OpId op, const Tensor& other, const Attrs* attrs) {
  Tensor ins[] = {self, other.to(self.dtype())};
  Tensor outs[] = {self};
  NoGradGuard no_grad;
  ops::run(op, ins, outs, attrs);
}

}  // namespace

Tensor Tensor::to(DType t) const {
  if (dtype() == t) return *this;
  return copy_to_new(*this, t, device());
}

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  return copy_to_new(*this, dtype(), d);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return copy_to_new(*this, dtype(), device());
}

Tensor Tensor::clone() const { return copy_to_new(*this, dtype(), device()); }

Tensor Tensor::pin_memory() const {
  DLT_CHECK(device().is_cpu(), "pin_memory: only cpu tensors can be pinned, this one is on {}",
            device());
  if (is_pinned()) return *this;
  Tensor ins[] = {*this};
  Tensor outs[] = {empty_pinned(shape(), dtype())};
  ops::run(OpId::copy, ins, outs, nullptr);  // records the copy for autograd, as to() does
  return outs[0];
}

template <class T> T Tensor::item() const {
  DLT_CHECK(numel() == 1, "item(): a tensor with {} elements cannot be converted to a scalar",
            numel());
  const Tensor host = to(Device::cpu());
  return visit_dtype(dtype(), [&]<class S>() {
    return static_cast<T>(compute_t<S>(*static_cast<const S*>(host.raw_data())));
  });
}
#define X(name, type, str) template type Tensor::item<type>() const;
DLT_DTYPES(X)
#undef X

Tensor& Tensor::add_(const Tensor& other, Scalar alpha) {
  check_inplace_operand(*this, other, "add_");
  const ops::AlphaAttrs attrs{alpha.to_double()};
  return apply_inplace(
      *this, {other}, "add_", [&] { run_binary_into(*this, OpId::add, other, &attrs); },
      [&](const Tensor& old) { return add(old, other, alpha).to(dtype()); });
}

Tensor& Tensor::add_(Scalar other) { return add_(wrap_scalar(other, *this)); }

Tensor& Tensor::sub_(const Tensor& other) {
  check_inplace_operand(*this, other, "sub_");
  const ops::AlphaAttrs attrs{1.0};
  return apply_inplace(
      *this, {other}, "sub_", [&] { run_binary_into(*this, OpId::sub, other, &attrs); },
      [&](const Tensor& old) { return sub(old, other).to(dtype()); });
}

Tensor& Tensor::mul_(const Tensor& other) {
  check_inplace_operand(*this, other, "mul_");
  return apply_inplace(
      *this, {other}, "mul_",
      [&] { run_binary_into<ops::NoAttrs>(*this, OpId::mul, other, nullptr); },
      [&](const Tensor& old) { return mul(old, other).to(dtype()); });
}

Tensor& Tensor::mul_(Scalar other) { return mul_(wrap_scalar(other, *this)); }

Tensor& Tensor::div_(const Tensor& other) {
  check_inplace_operand(*this, other, "div_");
  DLT_CHECK(is_floating(dtype()), "div_: true division can't write into a {} tensor", dtype());
  return apply_inplace(
      *this, {other}, "div_",
      [&] { run_binary_into<ops::NoAttrs>(*this, OpId::div, other, nullptr); },
      [&](const Tensor& old) { return div(old, other).to(dtype()); });
}

Tensor& Tensor::fill_(Scalar value) {
  check_writable(*this, "fill_");
  const ops::ScalarAttrs attrs{value.to_double()};
  return apply_inplace(
      *this, {}, "fill_",
      [&] {
        Tensor outs[] = {*this};
        ops::run_no_inputs(OpId::fill, outs, &attrs);
      },
      [&](const Tensor& old) { return replaced_by(old, wrap_scalar(value, old)); });
}

Tensor& Tensor::zero_() { return fill_(0); }

Tensor& Tensor::copy_(const Tensor& src) {
  check_writable(*this, "copy_");
  check_no_partial_overlap(*this, src, "copy_");
  DLT_CHECK(broadcast_shapes(shape(), src.shape()) == shape(),
            "copy_: source of shape {} does not broadcast to the destination's shape {}",
            shape_str(src.shape()), shape_str(shape()));
  return apply_inplace(
      *this, {src}, "copy_", [&] { copy_into(*this, src); },
      [&](const Tensor& old) { return replaced_by(old, src); });
}

Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return dlt::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return dlt::mean(*this, dims, keepdim);
}
Tensor Tensor::exp() const { return dlt::exp(*this); }
Tensor Tensor::log() const { return dlt::log(*this); }
Tensor Tensor::sqrt() const { return dlt::sqrt(*this); }
Tensor Tensor::abs() const { return dlt::abs(*this); }
Tensor Tensor::pow(Scalar exponent) const { return dlt::pow(*this, exponent); }
Tensor Tensor::matmul(const Tensor& other) const { return dlt::matmul(*this, other); }

}  // namespace dlt
