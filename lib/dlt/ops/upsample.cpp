// upsample_nearest2d and upsample_bilinear2d, composites of index_select and
// elementwise ops. Each resizes H and W separately with torch 1.13's source
// positions and weights, so results match torch's CPU kernels (nearest:
// exactly; bilinear: the same products and sums in the same order), and the
// gradients are index_select's (index_add), with no kernels of their own.
#include <cmath>

#include "dlt/ops/ops.h"

namespace dlt {

namespace {

using Size2 = std::array<int64_t, 2>;
using Scales2 = std::optional<std::array<double, 2>>;

void check_resize(const char* op, const Tensor& x, Size2 output_size, const Scales2& scales) {
  DLT_CHECK(x.defined(), "{}: undefined input tensor", op);
  DLT_CHECK(x.dim() == 4, "{}: expected a 4-D input (B, C, H, W), got shape {}", op,
            shape_str(x.shape()));
  DLT_CHECK(is_floating(x.dtype()), "{}: expected a floating point input, got {}", op, x.dtype());
  DLT_CHECK(output_size[0] > 0 && output_size[1] > 0,
            "{}: output size {} of input {} must be positive", op, output_size,
            shape_str(x.shape()));
  DLT_CHECK(!scales || ((*scales)[0] > 0 && (*scales)[1] > 0),
            "{}: scale factors {} must be positive", op, scales ? *scales : std::array<double, 2>{});
}

// An (n) index tensor on x's device.
Tensor indices_on(const std::vector<int64_t>& index, const Tensor& x) {
  return from_vector(index, {int64_t(index.size())}).to(x.device());
}

// torch's source index of output i along one dim: floor(i * scale) in float,
// scale = 1 / scale_factor when given, else in / out.
std::vector<int64_t> nearest_sources(int64_t in, int64_t out, std::optional<double> scale_factor) {
  const float scale = scale_factor ? float(1.0 / *scale_factor) : float(in) / float(out);
  std::vector<int64_t> src(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i)
    src[size_t(i)] = std::min(int64_t(std::floor(float(i) * scale)), in - 1);
  return src;
}

// Two taps per output position along one dim: out[i] = x[i0] w0 + x[i1] w1.
struct LinearTaps {
  std::vector<int64_t> i0, i1;
  std::vector<double> w0, w1;
};

// torch's area_pixel_compute_source_index and guard_index_and_lambda, in R
// (float for f32 / f16 / bf16, double for f64, as torch's opmath type).
template <class R>
LinearTaps linear_taps(int64_t in, int64_t out, bool align_corners,
                       std::optional<double> scale_factor) {
  R scale;
  if (align_corners)
    scale = out > 1 ? R(in - 1) / R(out - 1) : R(0);
  else
    scale = scale_factor ? R(1.0 / *scale_factor) : R(in) / R(out);
  LinearTaps t;
  for (int64_t i = 0; i < out; ++i) {
    R real = align_corners ? scale * R(i) : scale * (R(i) + R(0.5)) - R(0.5);
    if (!align_corners && real < 0) real = 0;
    const int64_t i0 = std::min(int64_t(std::floor(real)), in - 1);
    const R lambda = std::min(std::max(real - R(i0), R(0)), R(1));
    t.i0.push_back(i0);
    t.i1.push_back(i0 + (i0 < in - 1 ? 1 : 0));
    t.w0.push_back(double(R(1) - lambda));
    t.w1.push_back(double(lambda));
  }
  return t;
}

// The (n) weights as x's dtype and device, shaped to broadcast along `dim`
// of a 4-D tensor: (n, 1) for H, (n) for W.
Tensor weights_on(const std::vector<double>& w, const Tensor& x, int64_t dim) {
  const int64_t n = int64_t(w.size());
  const Shape shape = dim == 2 ? Shape{n, 1} : Shape{n};
  return from_vector(w, shape).to(x.dtype()).to(x.device());
}

// x (B, C, H, W) interpolated along dim 2 (H) or 3 (W).
Tensor lerp_along(const Tensor& x, int64_t dim, const LinearTaps& t) {
  return index_select(x, dim, indices_on(t.i0, x)) * weights_on(t.w0, x, dim) +
         index_select(x, dim, indices_on(t.i1, x)) * weights_on(t.w1, x, dim);
}

std::optional<double> scale_of(const Scales2& scales, int i) {
  return scales ? std::optional<double>((*scales)[size_t(i)]) : std::nullopt;
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, std::array<int64_t, 2> output_size,
                          std::optional<std::array<double, 2>> scales) {
  check_resize("upsample_nearest2d", x, output_size, scales);
  Tensor y = x;
  for (int i = 0; i < 2; ++i) {  // H (dim 2), then W (dim 3)
    const int64_t dim = 2 + i, in = x.size(dim), out = output_size[size_t(i)];
    if (out == in && !scales) continue;  // the identity: no copy
    y = index_select(y, dim, indices_on(nearest_sources(in, out, scale_of(scales, i)), x));
  }
  return y;
}

Tensor upsample_bilinear2d(const Tensor& x, std::array<int64_t, 2> output_size, bool align_corners,
                           std::optional<std::array<double, 2>> scales) {
  check_resize("upsample_bilinear2d", x, output_size, scales);
  // W first, then H: torch's kernel computes h0w * (w0w x[h0, w0] + w1w x[h0, w1]) + h1w * (...).
  Tensor y = x;
  for (int i = 1; i >= 0; --i) {
    const int64_t dim = 2 + i, in = x.size(dim), out = output_size[size_t(i)];
    if (out == in && !scales) continue;  // weights (1, 0) on the same index: the identity
    const LinearTaps taps = x.dtype() == DType::f64
                                ? linear_taps<double>(in, out, align_corners, scale_of(scales, i))
                                : linear_taps<float>(in, out, align_corners, scale_of(scales, i));
    y = lerp_along(y, dim, taps);
  }
  return y;
}

}  // namespace dlt
