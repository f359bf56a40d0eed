// The parameter-free elementwise activations: ReLU, GELU (approximate: none
// or tanh), SiLU, Tanh, Sigmoid. One small class for all five, since they
// differ only in the op they call; each keeps its own registry name.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

enum class ActivationKind { relu, gelu, gelu_tanh, silu, tanh, sigmoid };

class Activation : public Layer {
 public:
  Activation(ActivationKind kind, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override;
  std::string describe() const override;

  const ActivationKind kind;
};

}  // namespace dlt::nn
