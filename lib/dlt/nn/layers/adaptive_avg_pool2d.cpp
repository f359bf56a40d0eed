#include "dlt/nn/layers/adaptive_avg_pool2d.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

AdaptiveAvgPool2d::AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions o, const Shape& input_shape,
                                     BuildContext&)
    : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  DLT_LAYER_CHECK(o.output_size[0] >= 1 && o.output_size[1] >= 1,
                  "output_size must be positive, got {}", pair_str(o.output_size));
  output_shape_ = {input_shape[0], o.output_size[0], o.output_size[1]};
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return adaptive_avg_pool2d(x, options.output_size);
}

std::string AdaptiveAvgPool2d::describe() const {
  return "output_size=" + pair_str(options.output_size);
}

static const LayerInfo kAdaptiveAvgPool2dInfo{
    .summary = "average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d): "
               "[C, H, W] -> [C, oH, oW]",
    .options = {
        {"output_size", "1", "output size: an integer or [oH, oW]"}},
    .example = "{type: AdaptiveAvgPool2d, output_size: 2}",
    .example_input = {2, 5, 5}};

static Built build_adaptive_avg_pool2d(const config::Node& spec, const Shape& input_shape,
                                       BuildContext& ctx) {
  check_options(spec, kAdaptiveAvgPool2dInfo);
  const AdaptiveAvgPool2dOptions o{.output_size = read_pair(spec, "output_size", {1, 1}, 1)};
  return make_layer<AdaptiveAvgPool2d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(AdaptiveAvgPool2d, build_adaptive_avg_pool2d, kAdaptiveAvgPool2dInfo);

}  // namespace dlt::nn
