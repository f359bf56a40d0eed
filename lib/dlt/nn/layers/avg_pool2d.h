// AvgPool2d: x (B, C, H, W) -> (B, C, H_out, W_out), like torch.nn.AvgPool2d.
#pragma once

#include <array>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct AvgPool2dOptions {
  std::array<int64_t, 2> kernel_size{0, 0};  // required
  std::array<int64_t, 2> stride{0, 0};       // 0: the kernel size, as torch's default
  std::array<int64_t, 2> padding{0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;
};

class AvgPool2d : public Layer {
 public:
  AvgPool2d(AvgPool2dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "AvgPool2d"; }
  std::string describe() const override;

  const AvgPool2dOptions options;
  std::array<int64_t, 2> stride;  // resolved
};

}  // namespace dlt::nn
