// Sequential, like torch.nn.Sequential: children named "0", "1", ... run in
// order, so parameter names are "0.weight", "2.bias" as in torch.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

class Sequential : public Layer {
 public:
  explicit Sequential(const Shape& input_shape);  // empty: the identity
  // Appends a layer whose input is the current output shape.
  void push_back(const Built& layer);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Sequential"; }
  std::string describe() const override;

  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const { return layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace dlt::nn
