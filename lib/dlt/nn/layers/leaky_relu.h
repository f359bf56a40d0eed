// LeakyReLU: x for x >= 0, negative_slope * x below (torch.nn.LeakyReLU).
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct LeakyReLUOptions {
  double negative_slope = 0.01;
};

class LeakyReLU : public Layer {
 public:
  LeakyReLU(LeakyReLUOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "LeakyReLU"; }
  std::string describe() const override;

  const LeakyReLUOptions options;
};

}  // namespace dlt::nn
