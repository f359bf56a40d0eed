// Upsample: x (B, C, H, W) -> (B, C, Ho, Wo) by nearest or bilinear
// interpolation (torch.nn.Upsample). The output size is `size`, or
// floor(H * scale_factor) x floor(W * scale_factor), whose source positions
// then use the scale factor itself, as torch's.
#pragma once

#include <array>
#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

enum class UpsampleMode { nearest, bilinear };

struct UpsampleOptions {
  std::optional<std::array<int64_t, 2>> size;        // one of size
  std::optional<std::array<double, 2>> scale_factor;  // and scale_factor
  UpsampleMode mode = UpsampleMode::nearest;
  bool align_corners = false;  // bilinear only: corner pixels' centres map onto each other
};

class Upsample : public Layer {
 public:
  // input_shape: [C, H, W].
  Upsample(UpsampleOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Upsample"; }
  std::string describe() const override;

  const UpsampleOptions options;

 private:
  std::array<int64_t, 2> output_size_;
};

}  // namespace dlt::nn
