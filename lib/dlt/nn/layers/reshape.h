// Reshape each sample to `shape` (-1 infers one dim): (B, *) -> (B, *shape).
// The torch equivalent is x.reshape(x.shape[0], *shape).
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct ReshapeOptions {
  Shape shape;  // required; per sample
};

class Reshape : public Layer {
 public:
  Reshape(ReshapeOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Reshape"; }
  std::string describe() const override;

  const ReshapeOptions options;
};

}  // namespace dlt::nn
