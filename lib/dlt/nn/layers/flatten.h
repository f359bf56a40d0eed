// Flatten, like torch.nn.Flatten: merges dims start_dim..end_dim, counted as
// torch counts them (dim 0 is the batch). The default, 1..-1, flattens each
// sample: (B, C, H, W) -> (B, C*H*W).
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct FlattenOptions {
  int64_t start_dim = 1;
  int64_t end_dim = -1;
};

class Flatten : public Layer {
 public:
  Flatten(FlattenOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Flatten"; }
  std::string describe() const override;

  const FlattenOptions options;

 private:
  int64_t start_ = 1, end_ = 1;  // resolved, in (B, *) terms
};

}  // namespace dlt::nn
