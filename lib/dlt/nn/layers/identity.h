// Identity: returns its input (torch.nn.Identity), a placeholder where a
// config wants "no layer here" (an optional projection, a head to replace).
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

class Identity : public Layer {
 public:
  Identity(const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override { return x; }
  std::string type() const override { return "Identity"; }
};

}  // namespace dlt::nn
