// MaxPool2d: x (B, C, H, W) -> (B, C, H_out, W_out), like torch.nn.MaxPool2d.
#pragma once

#include <array>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct MaxPool2dOptions {
  std::array<int64_t, 2> kernel_size{0, 0};  // required
  std::array<int64_t, 2> stride{0, 0};       // 0: the kernel size, as torch's default
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  bool ceil_mode = false;
};

class MaxPool2d : public Layer {
 public:
  MaxPool2d(MaxPool2dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "MaxPool2d"; }
  std::string describe() const override;

  const MaxPool2dOptions options;
  std::array<int64_t, 2> stride;  // resolved
};

}  // namespace dlt::nn
