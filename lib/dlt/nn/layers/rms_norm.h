// RMSNorm, like torch.nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight over the
// trailing dims (the last one unless `shape` says more).
#pragma once

#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct RMSNormOptions {
  std::optional<Shape> shape;  // normalized trailing dims; default: the input's last dim
  double eps = 1e-6;
  bool elementwise_affine = true;  // a learned weight, ones at first
};

class RMSNorm : public Layer {
 public:
  RMSNorm(RMSNormOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "RMSNorm"; }
  std::string describe() const override;

  const RMSNormOptions options;
  Shape normalized_shape;
  Tensor weight;  // undefined without elementwise_affine
};

}  // namespace dlt::nn
