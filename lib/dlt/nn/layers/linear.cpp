#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/options.h"

#include <cmath>

#include "dlt/nn/init.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

static int64_t last_dim(const Shape& input_shape) {
  DLT_LAYER_CHECK(!input_shape.empty(), "expected input with at least 1 dimension, got []");
  return input_shape.back();
}

Linear::Linear(LinearOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o), in_features(last_dim(input_shape)) {
  DLT_LAYER_CHECK(o.out >= 1, "out must be at least 1, got {}", o.out);
  weight = register_parameter("weight", empty({o.out, in_features}, param_options(ctx)));
  if (o.bias) bias = register_parameter("bias", empty({o.out}, param_options(ctx)));
  init::linear_default_(weight, bias, ctx.gen);
  output_shape_ = input_shape;
  output_shape_.back() = o.out;
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }  // (B, *, out)

std::string Linear::describe() const {
  return fmt::format("in={}, out={}, bias={}", in_features, options.out, options.bias);
}

static const LayerInfo kLinearInfo{
    .summary = "x W^T + b over the last dim (torch.nn.Linear): [*, in] -> [*, out]",
    .options = {
        {"out", "", "output features"},
        {"bias", "true", "learn a bias"}},
    .example = "{type: Linear, out: 3}",
    .example_input = {4}};

static Built build_linear(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kLinearInfo);
  const LinearOptions o{.out = read_positive(spec, "out"), .bias = spec.get_or("bias", true)};
  return make_layer<Linear>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Linear, build_linear, kLinearInfo);

}  // namespace dlt::nn
