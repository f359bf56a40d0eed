// ONNX Resize (opset 10 to 19) and the older Upsample: nearest, linear and
// cubic interpolation, one axis after another as ONNX's reference does. For
// each output position the taps (source indices, clamped to the edge) and
// their weights are computed on the host; the tensor work is index_select
// and weighted sums, on the input's device.
#include <cmath>
#include <numeric>

#include "dlt/onnx/import/host_math.h"
#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/import/padding.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

struct ResizeMode {
  std::string mode = "nearest";               // nearest | linear | cubic
  std::string transform = "half_pixel";        // coordinate_transformation_mode
  std::string nearest = "round_prefer_floor";  // nearest_mode
  double cubic_a = -0.75;
  bool exclude_outside = false;
};

// The source coordinate of output position x along an axis of `in` values
// scaled by `scale` (ONNX's coordinate transformations).
double source_coordinate(const ResizeMode& m, double x, int64_t in, double scale, int64_t out,
                         const NodeContext& n) {
  const double out_width = scale * static_cast<double>(in);
  if (m.transform == "align_corners") return out_width == 1 ? 0 : x * static_cast<double>(in - 1) / (out_width - 1);
  if (m.transform == "asymmetric") return x / scale;
  if (m.transform == "pytorch_half_pixel") return out_width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  if (m.transform == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (m.transform == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out) / out_width;
    const double offset = static_cast<double>(in) / 2 * (1 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  throw UnsupportedError(fmt::format("{}: coordinate_transformation_mode {}", n.where(), m.transform));
}

// The weights of the taps around a source coordinate whose fractional part
// is `ratio` (1 on an integer coordinate: ONNX then takes the taps left of it).
std::vector<double> tap_weights(const ResizeMode& m, double ratio) {
  if (m.mode == "nearest") {
    if (ratio == 1) return {0, 1};
    if (m.nearest == "round_prefer_floor") return {double(ratio <= 0.5), double(ratio > 0.5)};
    if (m.nearest == "round_prefer_ceil") return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (m.nearest == "floor") return {1, 0};
    return {0, 1};  // ceil
  }
  if (m.mode == "linear") return {1 - ratio, ratio};
  const double a = m.cubic_a, r = ratio, s = 1 - ratio;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1, ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

// x resized along one axis to `out` positions.
Tensor resize_axis(const Tensor& x, int64_t axis, int64_t out, double scale, const ResizeMode& m,
                   const NodeContext& n) {
  const int64_t in = x.size(axis);
  const size_t taps = m.mode == "cubic" ? 4 : 2;
  std::vector<std::vector<int64_t>> index(taps, std::vector<int64_t>(static_cast<size_t>(out)));
  std::vector<std::vector<double>> weight(taps, std::vector<double>(static_cast<size_t>(out)));
  for (int64_t o = 0; o < out; ++o) {
    const double src = source_coordinate(m, static_cast<double>(o), in, scale, out, n);
    const double floor_src = std::floor(src);
    const bool integral = src == floor_src;
    const double ratio = integral ? 1 : src - floor_src;
    const auto start = static_cast<int64_t>(floor_src) - static_cast<int64_t>(taps / 2 - 1) - (integral ? 1 : 0);
    std::vector<double> w = tap_weights(m, ratio);
    if (m.exclude_outside) {
      double total = 0;
      for (size_t k = 0; k < taps; ++k) {
        const int64_t i = start + static_cast<int64_t>(k);
        if (i < 0 || i >= in) w[k] = 0;
        total += w[k];
      }
      for (double& v : w) v /= total;
    }
    for (size_t k = 0; k < taps; ++k) {
      index[k][static_cast<size_t>(o)] = std::clamp<int64_t>(start + static_cast<int64_t>(k), 0, in - 1);  // edge
      weight[k][static_cast<size_t>(o)] = w[k];
    }
  }
  Shape weight_shape(static_cast<size_t>(x.dim()), 1);
  weight_shape[static_cast<size_t>(axis)] = out;
  Tensor y;
  for (size_t k = 0; k < taps; ++k) {
    const Tensor w = from_blob(weight[k].data(), {out}, DType::f64).to(x.dtype()).to(x.device()).reshape(weight_shape);
    const Tensor term = index_select(x, axis, index_tensor(index[k], x.device())) * w;
    y = y.defined() ? y + term : term;
  }
  return y;
}

// Resizes x (any rank) to `sizes` with per-axis `scales`.
Tensor resize(const Tensor& x_in, const std::vector<int64_t>& sizes, const std::vector<double>& scales,
              const ResizeMode& m, const NodeContext& n) {
  const DType dtype = x_in.dtype();
  Tensor x = is_floating(dtype) ? x_in : x_in.to(DType::f64);
  for (int64_t d = 0; d < x.dim(); ++d) {
    const auto i = static_cast<size_t>(d);
    if (sizes[i] != x.size(d) || scales[i] != 1.0) x = resize_axis(x, d, sizes[i], scales[i], m, n);
  }
  if (is_floating(dtype)) return x;
  // Integers round half to even and saturate, as ONNX's saturate_cast.
  const double lo = dtype == DType::u8 ? 0 : -std::ldexp(1.0, 63), hi = dtype == DType::u8 ? 255 : std::ldexp(1.0, 63);
  return host_unary(x, [=](double v) { return std::clamp(std::nearbyint(v), lo, hi); }, dtype);
}

DLT_ONNX_OP(Resize, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  ResizeMode m;
  m.mode = n.attr_string("mode", "nearest");
  DLT_ONNX_SUPPORTED(m.mode == "nearest" || m.mode == "linear" || m.mode == "cubic", "{}: mode {}", n.where(), m.mode);
  m.transform = n.attr_string("coordinate_transformation_mode", n.opset() < 11 ? "asymmetric" : "half_pixel");
  m.nearest = n.attr_string("nearest_mode", n.opset() < 11 ? "floor" : "round_prefer_floor");
  m.cubic_a = n.attr_float("cubic_coeff_a", -0.75);
  m.exclude_outside = n.attr_int("exclude_outside", 0);
  DLT_ONNX_SUPPORTED(!n.attr_int("antialias", 0), "{}: antialias", n.where());
  DLT_ONNX_SUPPORTED(n.attr_string("keep_aspect_ratio_policy", "stretch") == "stretch",
                     "{}: keep_aspect_ratio_policy other than stretch", n.where());
  const auto r = static_cast<size_t>(x.dim());
  std::vector<int64_t> axes(r);
  std::iota(axes.begin(), axes.end(), 0);
  if (n.has_attr("axes")) {
    axes.clear();
    for (int64_t a : n.attr_ints("axes")) axes.push_back(wrap_axis(a, x.dim(), n));
  }
  // Inputs: (X, scales) before opset 11; (X, roi, scales, sizes) since.
  const size_t scales_at = n.opset() < 11 ? 1 : 2, sizes_at = 3;
  std::vector<int64_t> sizes(x.shape().begin(), x.shape().end());
  std::vector<double> scales(r, 1.0);
  if (n.has_input(sizes_at) && n.input(sizes_at).numel() > 0) {
    const auto given = n.input_ints(sizes_at);
    DLT_CHECK(given.size() == axes.size(), "{}: {} sizes for {} axes", n.where(), given.size(), axes.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      const auto a = static_cast<size_t>(axes[i]);
      sizes[a] = given[i];
      scales[a] = static_cast<double>(given[i]) / static_cast<double>(x.size(axes[i]));
    }
  } else {
    const auto given = n.input_doubles(scales_at);
    DLT_CHECK(given.size() == axes.size(), "{}: {} scales for {} axes", n.where(), given.size(), axes.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      const auto a = static_cast<size_t>(axes[i]);
      scales[a] = given[i];
      sizes[a] = static_cast<int64_t>(std::floor(given[i] * static_cast<double>(x.size(axes[i]))));
    }
  }
  DLT_ONNX_SUPPORTED(m.transform != "tf_crop_and_resize", "{}: tf_crop_and_resize", n.where());
  return outs(resize(x, sizes, scales, m, n));
});

DLT_ONNX_OP(Upsample, [](NodeContext& n) {
  // Resize's ancestor (opsets 7 to 9): scales as an attribute, then an input.
  const Tensor& x = n.input(0);
  ResizeMode m;
  m.mode = n.attr_string("mode", "nearest");
  DLT_ONNX_SUPPORTED(m.mode == "nearest" || m.mode == "linear", "{}: mode {}", n.where(), m.mode);
  m.transform = "asymmetric";
  m.nearest = "floor";
  std::vector<double> scales;
  if (n.opset() < 9) for (float s : n.attr_floats("scales")) scales.push_back(s);
  else scales = n.input_doubles(1);
  DLT_CHECK(scales.size() == static_cast<size_t>(x.dim()), "{}: {} scales for rank {}", n.where(), scales.size(), x.dim());
  std::vector<int64_t> sizes;
  for (int64_t d = 0; d < x.dim(); ++d)
    sizes.push_back(static_cast<int64_t>(std::floor(scales[static_cast<size_t>(d)] * static_cast<double>(x.size(d)))));
  return outs(resize(x, sizes, scales, m, n));
});

}  // namespace
}  // namespace dlt::onnx_import
