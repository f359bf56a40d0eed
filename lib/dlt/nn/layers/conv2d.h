// Conv2d: x (B, C_in, H, W) -> (B, out_channels, H_out, W_out), like
// torch.nn.Conv2d with zero padding. C_in is the input shape's first dim.
#pragma once

#include <array>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct Conv2dOptions {
  int64_t out_channels = 0;  // required
  std::array<int64_t, 2> kernel_size{0, 0};  // required
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Layer {
 public:
  Conv2d(Conv2dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Conv2d"; }
  std::string describe() const override;

  const Conv2dOptions options;
  int64_t in_channels = 0;
  Tensor weight;  // (out, in / groups, kH, kW): kaiming_uniform(a = sqrt(5))
  Tensor bias;    // (out): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
};

}  // namespace dlt::nn
