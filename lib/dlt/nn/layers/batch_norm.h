// BatchNorm1d (x (B, C) or (B, C, L)) and BatchNorm2d (x (B, C, H, W)), like
// torch.nn.BatchNorm1d/2d: batch statistics in training (updating the running
// ones), running statistics in eval. C is the input shape's first dim.
#pragma once

#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct BatchNormOptions {
  // Weight of the new batch in the running statistics; nullopt: a cumulative
  // average over all batches (torch's momentum=None).
  std::optional<double> momentum = 0.1;
  double eps = 1e-5;
  bool affine = true;  // learnable weight and bias
};

class BatchNorm : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return type_; }
  std::string describe() const override;

  const BatchNormOptions options;
  int64_t num_features = 0;
  Tensor weight, bias;                          // (C): ones, zeros; undefined without affine
  Tensor running_mean, running_var;             // (C): zeros, ones
  Tensor num_batches_tracked;                   // i64 scalar: training forwards so far

 protected:
  BatchNorm(const char* type, BatchNormOptions options, const Shape& input_shape,
            BuildContext& ctx);

 private:
  const char* type_;
};

class BatchNorm1d : public BatchNorm {
 public:
  BatchNorm1d(BatchNormOptions options, const Shape& input_shape, BuildContext& ctx);
};

class BatchNorm2d : public BatchNorm {
 public:
  BatchNorm2d(BatchNormOptions options, const Shape& input_shape, BuildContext& ctx);
};

}  // namespace dlt::nn
