#include "dlt/nn/layers/identity.h"

namespace dlt::nn {

Identity::Identity(const Shape& input_shape, BuildContext&) { output_shape_ = input_shape; }

static const LayerInfo kIdentityInfo{.summary = "returns its input (torch.nn.Identity)",
                                     .options = {},
                                     .example = "{type: Identity}",
                                     .example_input = {4}};

static Built build_identity(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kIdentityInfo);
  auto layer = std::make_shared<Identity>(input_shape, ctx);
  return {layer, layer->output_shape()};
}
DLT_REGISTER_LAYER(Identity, build_identity, kIdentityInfo);

}  // namespace dlt::nn
