// Softmax and LogSoftmax along one dim (torch.nn.Softmax / LogSoftmax): one
// class for both, since they differ only in the op they call. `dim` counts
// as torch counts, with the batch: 1 is a sample's first dim, -1 its last.
#pragma once

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct SoftmaxOptions {
  int64_t dim = -1;
  bool log = false;  // LogSoftmax
};

class Softmax : public Layer {
 public:
  Softmax(SoftmaxOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return options.log ? "LogSoftmax" : "Softmax"; }
  std::string describe() const override;

  const SoftmaxOptions options;
};

}  // namespace dlt::nn
