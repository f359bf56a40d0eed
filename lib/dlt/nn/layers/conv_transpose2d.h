// ConvTranspose2d: x (B, C_in, H, W) -> (B, out_channels, H_out, W_out), the
// transpose of Conv2d (torch.nn.ConvTranspose2d), with
//   H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
// With kernel_size = stride it is the learned upsampling of U-Nets and decoders.
#pragma once

#include <array>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct ConvTranspose2dOptions {
  int64_t out_channels = 0;                  // required
  std::array<int64_t, 2> kernel_size{0, 0};  // required
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> output_padding{0, 0};  // smaller than stride
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class ConvTranspose2d : public Layer {
 public:
  ConvTranspose2d(ConvTranspose2dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "ConvTranspose2d"; }
  std::string describe() const override;

  const ConvTranspose2dOptions options;
  int64_t in_channels = 0;
  // (in, out / groups, kH, kW), torch's layout: kaiming_uniform(a = sqrt(5))
  // with torch's fan_in, out / groups * kH * kW (dim 1 of the weight).
  Tensor weight;
  Tensor bias;  // (out): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
};

}  // namespace dlt::nn
