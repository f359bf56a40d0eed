#include "dlt/nn/layers/group_norm.h"

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

GroupNorm::GroupNorm(GroupNormOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o) {
  DLT_LAYER_CHECK(!input_shape.empty(), "expected input [C, *], got {}", shape_str(input_shape));
  channels = input_shape[0];
  DLT_LAYER_CHECK(o.num_groups >= 1 && channels % o.num_groups == 0,
                  "num_groups ({}) must divide the {} channels of input {}", o.num_groups,
                  channels, shape_str(input_shape));
  output_shape_ = input_shape;
  if (o.affine) {
    weight = register_parameter("weight", ones({channels}, param_options(ctx)));
    bias = register_parameter("bias", zeros({channels}, param_options(ctx)));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  return group_norm(x, options.num_groups, weight, bias, options.eps);
}

std::string GroupNorm::describe() const {
  return fmt::format("num_groups={}, channels={}, eps={}{}", options.num_groups, channels,
                     options.eps, options.affine ? "" : ", affine=false");
}

static const LayerInfo kGroupNormInfo{
    .summary = "normalises groups of channels per sample, then scales and shifts each channel "
               "(torch.nn.GroupNorm): [C, *] -> same",
    .options = {{"num_groups", "", "groups the C channels are split into; divides C"},
                {"eps", "1.0e-5", "added to the variance"},
                {"affine", "true", "learn a weight and a bias per channel"}},
    .example = "{type: GroupNorm, num_groups: 2}",
    .example_input = {4, 3}};

static Built build_group_norm(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kGroupNormInfo);
  GroupNormOptions o{.num_groups = read_positive(spec, "num_groups"),
                     .eps = read_double(spec, "eps", 1e-5, 0, 1),
                     .affine = spec.get_or("affine", true)};
  if (o.eps <= 0) spec.at("eps").fail("must be positive, got 0");
  return make_layer<GroupNorm>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(GroupNorm, build_group_norm, kGroupNormInfo);

}  // namespace dlt::nn
