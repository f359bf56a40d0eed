// Views: new shape/strides/offset over the same storage. No kernel runs; the
// op is recorded so gradients flow back through the view.
#include <numeric>

#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

template <class Attrs>
Tensor record_view(OpId op, const Tensor& x, Tensor view, const Attrs& attrs) {
  Tensor ins[] = {x};
  Tensor outs[] = {view};
  if (ops::should_record(ins)) {
    ops::record(op, ins, outs, &attrs);
    // Remember the root of a chain of views (intermediate views may be gone
    // when the view is used; only a root can be modified in place).
    AutogradMeta& meta = outs[0].impl()->autograd_meta();
    const AutogradMeta* xm = x.impl()->autograd.get();
    if (xm && !xm->view_base.expired()) {
      meta.view_base = xm->view_base;
      meta.view_base_grad_fn = xm->view_base_grad_fn;
    } else {
      meta.view_base = x.impl_ptr();
      meta.view_base_grad_fn = x.grad_fn().get();
    }
  }
  return outs[0];
}

// A view with arbitrary geometry whose gradient is a reshape (squeeze, unsqueeze, view).
Tensor reshaped_view(const Tensor& x, Shape shape, Shape strides) {
  ops::ViewAttrs attrs{shape};
  return record_view(OpId::view, x, make_view(x, std::move(shape), std::move(strides), x.offset()),
                     attrs);
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  const Shape shape = infer_shape(requested, numel());
  Shape new_strides;
  DLT_CHECK(view_strides(this->shape(), strides(), shape, new_strides),
            "view size {} is not compatible with the input's size {} and stride {} (at least one "
            "dimension spans two contiguous subspaces); use reshape() instead",
            shape_str(shape), shape_str(this->shape()), shape_str(strides()));
  return reshaped_view(*this, shape, new_strides);
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape shape = infer_shape(requested, numel());
  Shape new_strides;
  if (view_strides(this->shape(), strides(), shape, new_strides))
    return reshaped_view(*this, shape, new_strides);
  return contiguous().view(shape);
}

Tensor Tensor::permute(const Shape& dims) const {
  const int64_t n = dim();
  DLT_CHECK(int64_t(dims.size()) == n, "permute: got {} dims {} for a tensor of {} dimensions",
            dims.size(), shape_str(dims), n);
  ops::PermuteAttrs attrs;
  std::vector<bool> seen(static_cast<size_t>(n), false);
  Shape shape(static_cast<size_t>(n)), st(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = wrap_dim(dims[size_t(i)], n, "permute dim");
    DLT_CHECK(!seen[size_t(d)], "permute: dim {} repeated in {}", d, shape_str(dims));
    seen[size_t(d)] = true;
    attrs.dims.push_back(d);
    shape[size_t(i)] = this->shape()[size_t(d)];
    st[size_t(i)] = strides()[size_t(d)];
  }
  return record_view(OpId::permute, *this, make_view(*this, shape, st, offset()), attrs);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  const int64_t n = dim();
  if (n == 0) return *this;
  Shape dims(static_cast<size_t>(n));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[size_t(wrap_dim(d0, n))], dims[size_t(wrap_dim(d1, n))]);
  return permute(dims);
}

Tensor Tensor::t() const {
  DLT_CHECK(dim() <= 2, "t() expects a tensor with <= 2 dimensions, got {}", dim());
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t dim_, std::optional<int64_t> start_, std::optional<int64_t> end_,
                     int64_t step) const {
  const int64_t d = wrap_dim(dim_, dim());
  DLT_CHECK(step > 0, "slice step must be positive (got {})", step);
  const int64_t size = shape()[size_t(d)];
  // Python slicing: negative from the end, clamped to [0, size].
  auto clamp_index = [size](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v < 0 ? *v + size : *v;
    return std::clamp<int64_t>(i, 0, size);
  };
  const int64_t start = clamp_index(start_, 0);
  const int64_t end = std::max(start, clamp_index(end_, size));
  ops::SliceAttrs attrs{d, start, end, step};
  Shape sh = shape(), st = strides();
  sh[size_t(d)] = (end - start + step - 1) / step;
  st[size_t(d)] *= step;
  return record_view(OpId::slice, *this,
                     make_view(*this, sh, st, offset() + start * strides()[size_t(d)]), attrs);
}

Tensor Tensor::narrow(int64_t dim_, int64_t start, int64_t length) const {
  const int64_t d = wrap_dim(dim_, dim());
  const int64_t size = shape()[size_t(d)];
  DLT_CHECK(start >= -size && start <= size, "narrow: start {} out of range for dimension {} of size {}",
            start, d, size);
  if (start < 0) start += size;
  DLT_CHECK(length >= 0 && start + length <= size,
            "narrow: start ({}) + length ({}) exceeds dimension {} of size {}", start, length, d,
            size);
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t dim_, int64_t index) const {
  DLT_CHECK(dim() > 0, "select() cannot be applied to a 0-dim tensor");
  const int64_t d = wrap_dim(dim_, dim());
  const int64_t size = shape()[size_t(d)];
  DLT_CHECK(index >= -size && index < size, "index {} is out of bounds for dimension {} with size {}",
            index, d, size);
  if (index < 0) index += size;
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& requested) const {
  const int64_t n = int64_t(requested.size());
  DLT_CHECK(n >= dim(), "expand: the target {} has fewer dimensions than the tensor's shape {}",
            shape_str(requested), shape_str(shape()));
  Shape shape(requested.size()), st(requested.size());
  const int64_t lead = n - dim();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t want = requested[size_t(i)];
    if (i < lead) {
      DLT_CHECK(want >= 0, "expand: size -1 not allowed in a new leading dimension ({})",
                shape_str(requested));
      shape[size_t(i)] = want;
      st[size_t(i)] = 0;
      continue;
    }
    const int64_t have = this->shape()[size_t(i - lead)];
    const int64_t size = want == -1 ? have : want;
    DLT_CHECK(size == have || have == 1,
              "expand: the size of dimension {} ({}) must match the existing size ({}) at "
              "non-singleton dimension; shape {} cannot expand to {}",
              i, size, have, shape_str(this->shape()), shape_str(requested));
    shape[size_t(i)] = size;
    st[size_t(i)] = size == have ? strides()[size_t(i - lead)] : 0;
  }
  ops::ExpandAttrs attrs{shape};
  return record_view(OpId::expand, *this, make_view(*this, shape, st, offset()), attrs);
}

Tensor Tensor::squeeze() const {
  Shape sh, st;
  for (int64_t i = 0; i < dim(); ++i)
    if (shape()[size_t(i)] != 1) {
      sh.push_back(shape()[size_t(i)]);
      st.push_back(strides()[size_t(i)]);
    }
  return reshaped_view(*this, sh, st);
}

Tensor Tensor::squeeze(int64_t dim_) const {
  if (dim() == 0) return reshaped_view(*this, {}, {});
  const int64_t d = wrap_dim(dim_, dim());
  if (shape()[size_t(d)] != 1) return reshaped_view(*this, shape(), strides());
  Shape sh = shape(), st = strides();
  sh.erase(sh.begin() + d);
  st.erase(st.begin() + d);
  return reshaped_view(*this, sh, st);
}

Tensor Tensor::unsqueeze(int64_t dim_) const {
  const int64_t d = wrap_dim(dim_, dim() + 1);
  Shape sh = shape(), st = strides();
  const int64_t stride = d < dim() ? st[size_t(d)] * sh[size_t(d)] : 1;
  sh.insert(sh.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return reshaped_view(*this, sh, st);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t s = wrap_dim(start_dim, dim()), e = wrap_dim(end_dim, dim());
  DLT_CHECK(s <= e, "flatten: start_dim ({}) must not be after end_dim ({})", s, e);
  Shape sh(shape().begin(), shape().begin() + s);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i) merged *= shape()[size_t(i)];
  sh.push_back(merged);
  sh.insert(sh.end(), shape().begin() + e + 1, shape().end());
  return reshape(sh);
}

}  // namespace dlt
