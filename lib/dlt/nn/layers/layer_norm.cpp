#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/options.h"

#include <algorithm>

#include "dlt/ops/ops.h"

namespace dlt::nn {

LayerNorm::LayerNorm(LayerNormOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o) {
  normalized_shape = normalized_trailing_dims(o.shape, input_shape);
  DLT_LAYER_CHECK(o.eps > 0, "eps must be positive, got {}", o.eps);
  if (o.elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape, param_options(ctx)));
    bias = register_parameter("bias", zeros(normalized_shape, param_options(ctx)));
  }
  output_shape_ = input_shape;
}

Tensor LayerNorm::forward(const Tensor& x) {
  return layer_norm(x, normalized_shape, weight, bias, options.eps);
}

std::string LayerNorm::describe() const {
  std::string s = fmt::format("shape={}, eps={}", shape_str(normalized_shape), options.eps);
  if (!options.elementwise_affine) s += ", elementwise_affine=false";
  return s;
}

static const LayerInfo kLayerNormInfo{
    .summary = "normalises the trailing dims to zero mean and unit variance, then scales and "
               "shifts (torch.nn.LayerNorm)",
    .options = {
        {"shape", "(the input's last dim)", "normalised trailing dims"},
        {"eps", "1.0e-5", "added to the variance"},
        {"elementwise_affine", "true", "learn a weight and a bias"}},
    .example = "{type: LayerNorm}",
    .example_input = {3, 4}};

static Built build_layer_norm(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kLayerNormInfo);
  LayerNormOptions o;
  o.shape = read_normalized_shape(spec);
  o.eps = read_double(spec, "eps", 1e-5, 0, 1);
  if (o.eps <= 0) spec.at("eps").fail("must be positive, got 0");
  o.elementwise_affine = spec.get_or("elementwise_affine", true);
  return make_layer<LayerNorm>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(LayerNorm, build_layer_norm, kLayerNormInfo);

}  // namespace dlt::nn
