#include "dlt/nn/layers/layer.h"

#include <algorithm>

namespace dlt::nn {

Shape normalized_trailing_dims(const std::optional<Shape>& shape, const Shape& input_shape) {
  DLT_LAYER_CHECK(!input_shape.empty(), "expected input with at least 1 dimension, got []");
  Shape dims = shape ? *shape : Shape{input_shape.back()};
  DLT_LAYER_CHECK(!dims.empty() && dims.size() <= input_shape.size() &&
                      std::equal(dims.rbegin(), dims.rend(), input_shape.rbegin()),
                  "normalized shape {} must match the last dims of the input, got {}",
                  shape_str(dims), shape_str(input_shape));
  return dims;
}

Shape image_shape(const Shape& input_shape) {
  DLT_LAYER_CHECK(input_shape.size() == 2 || input_shape.size() == 3,
                  "expected input [C, H, W] or [H, W], got {}", shape_str(input_shape));
  Shape chw = input_shape;
  if (chw.size() == 2) chw.insert(chw.begin(), 1);
  return chw;
}

int64_t window_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Floor division (span may be negative when the window does not fit).
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  // With ceil_mode the last window must start inside the input or left padding.
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

std::string pair_str(const std::array<int64_t, 2>& p) {
  return p[0] == p[1] ? fmt::format("{}", p[0]) : fmt::format("({}, {})", p[0], p[1]);
}

}  // namespace dlt::nn
