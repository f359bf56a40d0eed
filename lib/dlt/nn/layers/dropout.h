// Dropout, like torch.nn.Dropout: in training zeroes each element with
// probability p and scales the rest by 1 / (1 - p); identity in eval.
// The masks come from the BuildContext's generator, which the layer keeps
// (it must outlive the model): one seeded generator then drives both the
// initialisation and every dropout mask of a run, and saving its (seed,
// offset) in a checkpoint makes a resumed run draw the same masks.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct DropoutOptions {
  double p = 0.5;
};

class Dropout : public Layer {
 public:
  Dropout(DropoutOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Dropout"; }
  std::string describe() const override;

  const DropoutOptions options;

 private:
  Generator* gen_;  // null: the default generator
};

}  // namespace dlt::nn
