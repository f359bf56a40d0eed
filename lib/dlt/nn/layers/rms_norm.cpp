#include "dlt/nn/layers/rms_norm.h"

#include <algorithm>

#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

RMSNorm::RMSNorm(RMSNormOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
  normalized_shape = normalized_trailing_dims(o.shape, input_shape);
  DLT_LAYER_CHECK(o.eps >= 0, "eps must not be negative, got {}", o.eps);
  if (o.elementwise_affine)
    weight = register_parameter("weight", ones(normalized_shape, param_options(ctx)));
  output_shape_ = input_shape;
}

Tensor RMSNorm::forward(const Tensor& x) {
  return rms_norm(x, normalized_shape, weight, options.eps);
}

std::string RMSNorm::describe() const {
  std::string s = fmt::format("shape={}, eps={}", shape_str(normalized_shape), options.eps);
  if (!options.elementwise_affine) s += ", elementwise_affine=false";
  return s;
}

static const LayerInfo kRMSNormInfo{
    .summary = "x / sqrt(mean(x^2) + eps) * weight over the trailing dims (torch.nn.RMSNorm)",
    .options = {
        {"shape", "(the input's last dim)", "normalised trailing dims"},
        {"eps", "1.0e-6", "added to the mean square"},
        {"elementwise_affine", "true", "learn a weight"}},
    .example = "{type: RMSNorm}",
    .example_input = {3, 4}};

static Built build_rms_norm(const config::Node& spec, const Shape& input_shape,
                            BuildContext& ctx) {
  check_options(spec, kRMSNormInfo);
  RMSNormOptions o;
  o.shape = read_normalized_shape(spec);
  o.eps = read_double(spec, "eps", 1e-6, 0, 1);
  o.elementwise_affine = spec.get_or("elementwise_affine", true);
  return make_layer<RMSNorm>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(RMSNorm, build_rms_norm, kRMSNormInfo);

}  // namespace dlt::nn
