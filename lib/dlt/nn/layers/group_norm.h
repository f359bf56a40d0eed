// GroupNorm: x (B, C, *) normalised per sample over groups of C / num_groups
// channels, then a weight and a bias per channel (torch.nn.GroupNorm).
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct GroupNormOptions {
  int64_t num_groups = 0;  // required; divides C
  double eps = 1e-5;
  bool affine = true;
};

class GroupNorm : public Layer {
 public:
  // input_shape: [C, *] (channels first).
  GroupNorm(GroupNormOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "GroupNorm"; }
  std::string describe() const override;

  const GroupNormOptions options;
  int64_t channels = 0;
  Tensor weight;  // (C): ones
  Tensor bias;    // (C): zeros
};

}  // namespace dlt::nn
