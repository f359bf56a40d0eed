#include "dlt/core/shape.h"

#include "dlt/core/error.h"

namespace dlt {

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* what) {
  const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  DLT_CHECK(dim >= lo && dim <= hi,
            "{} out of range: got {} for a tensor of {} dimension(s) (expected in [{}, {}])", what,
            dim, ndim, lo, hi);
  if (dim < 0) dim += std::max<int64_t>(ndim, 1);
  return dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    DLT_CHECK(da == db || da == 1 || db == 1,
              "shapes {} and {} cannot be broadcast together (dimension {}: {} vs {})",
              shape_str(a), shape_str(b), i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target) {
  DLT_CHECK(shape.size() <= target.size(), "cannot broadcast shape {} to {}", shape_str(shape),
            shape_str(target));
  Shape out(target.size(), 0);
  const size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t s = shape[i], t = target[lead + i];
    DLT_CHECK(s == t || s == 1, "cannot broadcast shape {} to {}", shape_str(shape),
              shape_str(target));
    out[lead + i] = (s == t && s != 1) ? strides[i] : 0;
  }
  return out;
}

// Same algorithm as PyTorch's computeStride: walk the old dims in contiguous
// chunks and check each new dim falls inside one chunk.
bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                  Shape& out) {
  out.assign(new_shape.size(), 0);
  if (numel_of(shape) == 0 || shape.empty()) {
    out = contiguous_strides(new_shape);
    return true;
  }
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Shape infer_shape(const Shape& requested, int64_t numel) {
  Shape out = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      DLT_CHECK(infer_at < 0, "shape {}: only one dimension can be -1", shape_str(requested));
      infer_at = int64_t(i);
    } else {
      DLT_CHECK(out[i] >= 0, "shape {}: invalid size {}", shape_str(requested), out[i]);
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    DLT_CHECK(known != 0 && numel % known == 0, "shape {} is invalid for input of size {}",
              shape_str(requested), numel);
    out[infer_at] = numel / known;
  } else {
    DLT_CHECK(known == numel, "shape {} is invalid for input of size {}", shape_str(requested),
              numel);
  }
  return out;
}

AroundDim around_dim(const Shape& shape, int64_t dim) {
  AroundDim a;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    if (d < dim) a.outer *= shape[size_t(d)];
    if (d > dim) a.inner *= shape[size_t(d)];
  }
  a.size = shape.empty() ? 1 : shape[size_t(dim)];
  return a;
}

}  // namespace dlt
