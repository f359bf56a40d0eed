// max_pool2d, avg_pool2d and adaptive_avg_pool2d: argument checks as torch's
// pool2d_shape_check, output sizes, and their backward helpers.
#include "dlt/ops/conv_backward.h"
#include "dlt/ops/dispatch.h"

namespace dlt {

using ops::AdaptivePoolAttrs;
using ops::OpId;
using ops::Pool2dAttrs;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// torch's pooling_output_shape. In ceil mode the last window must still start
// inside the input or its left padding.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                    bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  int64_t out = floor_div(span + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// (B, C, H, W) or unbatched (C, H, W), floating, no empty non-batch dim.
void check_pool_input(const char* op, const Tensor& x) {
  DLT_CHECK(x.defined(), "{}: undefined input tensor", op);
  DLT_CHECK(x.dim() == 3 || x.dim() == 4,
            "{}: expected a 3-D (C, H, W) or 4-D (B, C, H, W) input, got shape {}", op,
            shape_str(x.shape()));
  DLT_CHECK(x.size(-3) > 0 && x.size(-2) > 0 && x.size(-1) > 0,
            "{}: expected an input with non-empty C, H and W, got shape {}", op,
            shape_str(x.shape()));
  DLT_CHECK(is_floating(x.dtype()), "{}: expected a floating point input, got {}", op, x.dtype());
}

Shape with_spatial(const Shape& shape, int64_t h, int64_t w) {
  Shape out = shape;
  out[out.size() - 2] = h;
  out[out.size() - 1] = w;
  return out;
}

// The output shape of a windowed pool, after checking the window.
Shape checked_pool_shape(const char* op, const Tensor& x, const Pool2dAttrs& a) {
  check_pool_input(op, x);
  for (int i = 0; i < 2; ++i) {
    DLT_CHECK(a.kernel[i] > 0, "{}: kernel size {} should be greater than zero", op, a.kernel);
    DLT_CHECK(a.stride[i] > 0, "{}: stride {} should be greater than zero", op, a.stride);
    DLT_CHECK(a.dilation[i] > 0, "{}: dilation {} should be greater than zero", op, a.dilation);
    DLT_CHECK(a.padding[i] >= 0, "{}: negative padding {} is not supported", op, a.padding);
    DLT_CHECK(a.padding[i] <= a.kernel[i] / 2,
              "{}: padding {} should be at most half of kernel size {}", op, a.padding, a.kernel);
  }
  const int64_t h = x.size(-2), w = x.size(-1);
  const int64_t ho =
      pooled_size(h, a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], a.ceil_mode);
  const int64_t wo =
      pooled_size(w, a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], a.ceil_mode);
  DLT_CHECK(ho >= 1 && wo >= 1,
            "{}: given input of shape {}, calculated output size ({} x {}) is too small "
            "(kernel {}, stride {}, padding {}, dilation {})",
            op, shape_str(x.shape()), ho, wo, a.kernel, a.stride, a.padding, a.dilation);
  return with_spatial(x.shape(), ho, wo);
}

Pool2dAttrs pool_attrs(std::array<int64_t, 2> kernel, std::optional<std::array<int64_t, 2>> stride,
                       std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation,
                       bool ceil_mode, bool count_include_pad) {
  return {.kernel = kernel, .stride = stride.value_or(kernel), .padding = padding,
          .dilation = dilation, .ceil_mode = ceil_mode, .count_include_pad = count_include_pad};
}

}  // namespace

namespace ops {

ValuesIndices max_pool2d_with_indices(const Tensor& x, const Pool2dAttrs& attrs) {
  const Shape out_shape = checked_pool_shape("max_pool2d", x, attrs);
  Tensor ins[] = {x.contiguous()};
  Tensor outs[] = {empty(out_shape, like(x, x.dtype())), empty(out_shape, like(x, DType::i64))};
  run(OpId::max_pool2d, ins, outs, &attrs);
  return {outs[0], outs[1]};
}

Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape,
                           const Pool2dAttrs& attrs) {
  Tensor ins[] = {grad.contiguous(), indices.contiguous()};
  Tensor outs[] = {empty(input_shape, like(grad, grad.dtype()))};
  run(OpId::max_pool2d_backward, ins, outs, &attrs);
  return outs[0];
}

Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, const Pool2dAttrs& attrs) {
  Tensor ins[] = {grad.contiguous()};
  Tensor outs[] = {empty(input_shape, like(grad, grad.dtype()))};
  run(OpId::avg_pool2d_backward, ins, outs, &attrs);
  return outs[0];
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape) {
  const AdaptivePoolAttrs attrs{{grad.size(-2), grad.size(-1)}};
  Tensor ins[] = {grad.contiguous()};
  Tensor outs[] = {empty(input_shape, like(grad, grad.dtype()))};
  run(OpId::adaptive_avg_pool2d_backward, ins, outs, &attrs);
  return outs[0];
}

}  // namespace ops

Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                  std::optional<std::array<int64_t, 2>> stride, std::array<int64_t, 2> padding,
                  std::array<int64_t, 2> dilation, bool ceil_mode) {
  return ops::max_pool2d_with_indices(x, pool_attrs(kernel, stride, padding, dilation, ceil_mode,
                                                    true))
      .values;
}

Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                  std::optional<std::array<int64_t, 2>> stride, std::array<int64_t, 2> padding,
                  bool ceil_mode, bool count_include_pad) {
  const Pool2dAttrs attrs =
      pool_attrs(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad);
  const Shape out_shape = checked_pool_shape("avg_pool2d", x, attrs);
  Tensor ins[] = {x.contiguous()};
  Tensor outs[] = {empty(out_shape, like(x, x.dtype()))};
  ops::run(OpId::avg_pool2d, ins, outs, &attrs);
  return outs[0];
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  check_pool_input("adaptive_avg_pool2d", x);
  DLT_CHECK(output_size[0] >= 0 && output_size[1] >= 0,
            "adaptive_avg_pool2d: output size {} must not be negative", output_size);
  const AdaptivePoolAttrs attrs{output_size};
  Tensor ins[] = {x.contiguous()};
  Tensor outs[] = {empty(with_spatial(x.shape(), output_size[0], output_size[1]),
                         like(x, x.dtype()))};
  ops::run(OpId::adaptive_avg_pool2d, ins, outs, &attrs);
  return outs[0];
}

}  // namespace dlt
