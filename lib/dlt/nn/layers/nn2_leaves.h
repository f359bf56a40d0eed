// TEMPORARY (NN2): stand-ins for the NN1 engineer's layers (Layer, Linear,
// LayerNorm, Embedding, Conv2d, BatchNorm2d; same constructors, members,
// names and PyTorch default initialisations), so the composites can be
// built and tested before those land on main. Deleted at that merge: the
// composites then include dlt/nn/layers/{layer,linear,...}.h instead.
#pragma once

#include <array>
#include <cmath>
#include <optional>

#include "dlt/core/grad_mode.h"
#include "dlt/nn/module.h"
#include "dlt/nn/registry.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

class LayerError : public Error {
 public:
  using Error::Error;
};

#define DLT_LAYER_CHECK(cond, ...)                             \
  do {                                                         \
    if (!(cond)) [[unlikely]]                                  \
      throw ::dlt::nn::LayerError(::fmt::format(__VA_ARGS__)); \
  } while (0)

class Layer : public Module {
 public:
  const Shape& output_shape() const { return output_shape_; }

 protected:
  Shape output_shape_;
};

template <class L, class Options>
Built make_layer(Options options, const Shape& input_shape, BuildContext& ctx) {
  auto layer = std::make_shared<L>(std::move(options), input_shape, ctx);
  return {layer, layer->output_shape()};
}

inline TensorOptions param_options(const BuildContext& ctx) { return TensorOptions(ctx.dtype); }

namespace nn2_tmp {
// kaiming_uniform(a=sqrt(5)) and torch's bias init: both U(-1/sqrt(fan_in), ..).
inline Tensor default_uniform(const Shape& shape, int64_t fan_in, BuildContext& ctx) {
  const double bound = 1.0 / std::sqrt(double(fan_in));
  return uniform(shape, -bound, bound, ctx.dtype, ctx.gen);
}
}  // namespace nn2_tmp

struct LinearOptions {
  int64_t out = 0;
  bool bias = true;
};

class Linear : public Layer {
 public:
  Linear(LinearOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
    const int64_t in = input_shape.back();
    weight = register_parameter("weight", nn2_tmp::default_uniform({o.out, in}, in, ctx));
    if (o.bias) bias = register_parameter("bias", nn2_tmp::default_uniform({o.out}, in, ctx));
    output_shape_ = input_shape;
    output_shape_.back() = o.out;
  }
  Tensor forward(const Tensor& x) override { return linear(x, weight, bias); }
  std::string type() const override { return "Linear"; }
  const LinearOptions options;
  Tensor weight, bias;
};

struct LayerNormOptions {
  std::optional<Shape> shape;
  double eps = 1e-5;
  bool elementwise_affine = true;
};

class LayerNorm : public Layer {
 public:
  LayerNorm(LayerNormOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
    const int64_t c = input_shape.back();
    weight = register_parameter("weight", ones({c}, ctx.dtype));
    bias = register_parameter("bias", zeros({c}, ctx.dtype));
    output_shape_ = input_shape;
  }
  Tensor forward(const Tensor& x) override { return layer_norm(x, {weight.size(0)}, weight, bias); }
  std::string type() const override { return "LayerNorm"; }
  const LayerNormOptions options;
  Tensor weight, bias;
};

struct EmbeddingOptions {
  int64_t num_embeddings = 0;
  int64_t dim = 0;
  std::optional<int64_t> padding_idx;
};

class Embedding : public Layer {
 public:
  Embedding(EmbeddingOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
    weight = register_parameter("weight", normal({o.num_embeddings, o.dim}, 0, 1, ctx.dtype, ctx.gen));
    output_shape_ = input_shape;
    output_shape_.push_back(o.dim);
  }
  Tensor forward(const Tensor& x) override { return embedding(weight, x); }
  std::string type() const override { return "Embedding"; }
  const EmbeddingOptions options;
  Tensor weight;
};

struct Conv2dOptions {
  int64_t out_channels = 0;
  std::array<int64_t, 2> kernel_size{0, 0};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Layer {
 public:
  Conv2d(Conv2dOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
    const int64_t in = input_shape.at(0), k = o.kernel_size[0], fan_in = in * k * k;
    weight = register_parameter("weight", nn2_tmp::default_uniform({o.out_channels, in, k, k}, fan_in, ctx));
    if (o.bias) bias = register_parameter("bias", nn2_tmp::default_uniform({o.out_channels}, fan_in, ctx));
    const auto out = [&](int64_t n) { return (n + 2 * o.padding[0] - k) / o.stride[0] + 1; };
    output_shape_ = {o.out_channels, out(input_shape.at(1)), out(input_shape.at(2))};
  }
  Tensor forward(const Tensor& x) override {
    return conv2d(x, weight, bias, options.stride, options.padding);
  }
  std::string type() const override { return "Conv2d"; }
  const Conv2dOptions options;
  Tensor weight, bias;
};

struct BatchNormOptions {
  std::optional<double> momentum = 0.1;
  double eps = 1e-5;
  bool affine = true;
};

class BatchNorm2d : public Layer {
 public:
  BatchNorm2d(BatchNormOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
    const int64_t c = input_shape.at(0);
    weight = register_parameter("weight", ones({c}, ctx.dtype));
    bias = register_parameter("bias", zeros({c}, ctx.dtype));
    running_mean = register_buffer("running_mean", zeros({c}, ctx.dtype));
    running_var = register_buffer("running_var", ones({c}, ctx.dtype));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
    output_shape_ = input_shape;
  }
  Tensor forward(const Tensor& x) override {
    if (training()) {
      NoGradGuard no_grad;
      num_batches_tracked.add_(1);
    }
    return batch_norm(x, running_mean, running_var, weight, bias, training());
  }
  std::string type() const override { return "BatchNorm2d"; }
  const BatchNormOptions options;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};

}  // namespace dlt::nn
