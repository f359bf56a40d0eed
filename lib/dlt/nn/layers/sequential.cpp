#include "dlt/nn/layers/sequential.h"

namespace dlt::nn {

Sequential::Sequential(const Shape& input_shape) { output_shape_ = input_shape; }

void Sequential::push_back(const Built& layer) {
  DLT_ASSERT(layer.module != nullptr, "Sequential::push_back of a null module");
  register_module(std::to_string(layers_.size()), layer.module);
  layers_.push_back(layer.module);
  output_shape_ = layer.output_shape;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = (*layer)(y);
  return y;
}

std::string Sequential::describe() const { return fmt::format("{} layers", layers_.size()); }

static const LayerInfo kSequentialInfo{
    .summary = "layers applied in order; children named 0, 1, ...",
    .options = {
        {"layers", "", "the list of layers"}},
    .example = "{type: Sequential, layers: [{type: Linear, out: 3}]}",
    .example_input = {4}};

static Built build_sequential(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kSequentialInfo);
  const config::Node layers = spec.at("layers");
  if (!layers.is_sequence()) layers.fail("expected a list of layers");
  return build_model(layers, input_shape, ctx);
}
DLT_REGISTER_LAYER(Sequential, build_sequential, kSequentialInfo);

}  // namespace dlt::nn
