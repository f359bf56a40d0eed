// Shapes, strides and the index arithmetic every layer needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlt {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"

// Wraps a possibly negative dim into [0, ndim); a user error names `what`.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* what = "dim");

// The broadcast of two shapes (numpy rules), or a user error naming both.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Strides that view a tensor of `shape`/`strides` as `target` (broadcast):
// stride 0 on every expanded dim. The shape must broadcast to target.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target);

// Strides for viewing (shape, strides) as new_shape without copying, or an
// empty optional-like result (returns false) when a copy is needed.
bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                  Shape& out_strides);

// Resolves one -1 in a requested shape against numel; checks the product.
Shape infer_shape(const Shape& requested, int64_t numel);

// A shape seen as (outer, size, inner) around one (wrapped) dim, as the
// kernels of index_select, gather and friends walk it.
struct AroundDim {
  int64_t outer = 1, size = 1, inner = 1;
};
AroundDim around_dim(const Shape& shape, int64_t dim);

}  // namespace dlt
