// LayerNorm over the trailing dims, like torch.nn.LayerNorm: by default the
// last dim of the input shape, or the given `shape` (which must end the input).
#pragma once

#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct LayerNormOptions {
  std::optional<Shape> shape;  // normalized_shape; default: [last dim]
  double eps = 1e-5;
  bool elementwise_affine = true;
};

class LayerNorm : public Layer {
 public:
  LayerNorm(LayerNormOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "LayerNorm"; }
  std::string describe() const override;

  const LayerNormOptions options;
  Shape normalized_shape;
  Tensor weight, bias;  // normalized_shape: ones, zeros; undefined without affine
};

}  // namespace dlt::nn
