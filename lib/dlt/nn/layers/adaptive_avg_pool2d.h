// AdaptiveAvgPool2d: x (B, C, H, W) -> (B, C, oH, oW), like
// torch.nn.AdaptiveAvgPool2d (output_size 1 is global average pooling).
#pragma once

#include <array>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct AdaptiveAvgPool2dOptions {
  std::array<int64_t, 2> output_size{1, 1};
};

class AdaptiveAvgPool2d : public Layer {
 public:
  AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "AdaptiveAvgPool2d"; }
  std::string describe() const override;

  const AdaptiveAvgPool2dOptions options;
};

}  // namespace dlt::nn
