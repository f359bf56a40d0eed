// Linear: y = x W^T + b on the last dim, x (B, *, in) -> (B, *, out), like
// torch.nn.Linear. `in` is the last dim of the input shape.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct LinearOptions {
  int64_t out = 0;  // required
  bool bias = true;
};

class Linear : public Layer {
 public:
  Linear(LinearOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Linear"; }
  std::string describe() const override;

  const LinearOptions options;
  const int64_t in_features;
  Tensor weight;  // (out, in): kaiming_uniform(a = sqrt(5))
  Tensor bias;    // (out): U(-1/sqrt(in), 1/sqrt(in)); undefined without bias
};

}  // namespace dlt::nn
