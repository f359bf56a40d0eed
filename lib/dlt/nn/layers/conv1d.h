// Conv1d: x (B, C_in, L) -> (B, out_channels, L_out), like torch.nn.Conv1d
// with zero padding. C_in is the input shape's first dim.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct Conv1dOptions {
  int64_t out_channels = 0;  // required
  int64_t kernel_size = 0;   // required
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv1d : public Layer {
 public:
  Conv1d(Conv1dOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Conv1d"; }
  std::string describe() const override;

  const Conv1dOptions options;
  int64_t in_channels = 0;
  Tensor weight;  // (out, in / groups, K): kaiming_uniform(a = sqrt(5)), as torch
  Tensor bias;    // (out): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
};

}  // namespace dlt::nn
