// The sizes of one 2-D convolution, read from its tensors, shared by the
// reference loops and the oneDNN path. An unbatched (C, H, W) input is a
// batch of one.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "dlt/core/shape.h"
#include "dlt/ops/attrs.h"

namespace dlt::cpu {

struct ConvGeometry {
  int64_t B, Cin, H, W;  // input (B, Cin, H, W)
  int64_t Cout, kH, kW;  // weight (Cout, Cin / groups, kH, kW)
  int64_t Ho, Wo;        // output (B, Cout, Ho, Wo)
  int64_t groups;
  std::array<int64_t, 2> stride, padding, dilation;

  int64_t cin_per_group() const { return Cin / groups; }
  int64_t cout_per_group() const { return Cout / groups; }
};

// x: (B, Cin, H, W) or (Cin, H, W); y: the output of the same rank.
inline ConvGeometry conv_geometry(const Shape& x, const Shape& weight, const Shape& y,
                                  const ops::Conv2dAttrs& a) {
  const bool batched = x.size() == 4;
  const size_t c = batched ? 1 : 0;
  return {.B = batched ? x[0] : 1, .Cin = x[c], .H = x[c + 1], .W = x[c + 2],
          .Cout = weight[0], .kH = weight[2], .kW = weight[3],
          .Ho = y[c + 1], .Wo = y[c + 2],
          .groups = a.groups, .stride = a.stride, .padding = a.padding, .dilation = a.dilation};
}

// The output positions o in [lo, hi) whose input tap o * stride + offset lies
// in [0, in): lets the loops skip padding without a branch per element.
struct TapRange {
  int64_t lo, hi;
};
inline TapRange valid_taps(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t lo = std::min(out, offset >= 0 ? 0 : (-offset + stride - 1) / stride);
  const int64_t hi = in - 1 - offset < 0 ? 0 : (in - 1 - offset) / stride + 1;
  return {lo, std::clamp(hi, lo, out)};
}

}  // namespace dlt::cpu
