// Residual: y = body(x) + skip(x), where skip is the identity or a
// projection (e.g. a strided 1x1 Conv2d when the body changes the shape).
// Children are named "body" and "projection"; the torch equivalent is a
// module with those two attributes and this forward.
#pragma once

#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct ResidualParts {
  Built body;                     // built from the Residual's input shape
  std::optional<Built> projection;  // likewise; none: the identity
};

class Residual : public Layer {
 public:
  // The body's output shape must equal the skip path's, else a LayerError
  // naming both.
  Residual(ResidualParts parts, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Residual"; }
  std::string describe() const override;

  std::shared_ptr<Module> body, projection;  // projection may be null
};

}  // namespace dlt::nn
