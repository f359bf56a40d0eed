#include "dlt/nn/layers/leaky_relu.h"

#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

LeakyReLU::LeakyReLU(LeakyReLUOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  output_shape_ = input_shape;
}

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, options.negative_slope); }

std::string LeakyReLU::describe() const {
  return fmt::format("negative_slope={}", options.negative_slope);
}

static const LayerInfo kLeakyReLUInfo{
    .summary = "x for x >= 0, negative_slope * x below, elementwise (torch.nn.LeakyReLU)",
    .options = {{"negative_slope", "0.01", "slope of the negative part"}},
    .example = "{type: LeakyReLU}",
    .example_input = {4}};

static Built build_leaky_relu(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kLeakyReLUInfo);
  const LeakyReLUOptions o{.negative_slope = read_double(spec, "negative_slope", 0.01, -1e6, 1e6)};
  return make_layer<LeakyReLU>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(LeakyReLU, build_leaky_relu, kLeakyReLUInfo);

}  // namespace dlt::nn
