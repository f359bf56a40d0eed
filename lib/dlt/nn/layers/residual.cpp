#include "dlt/nn/layers/residual.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

Residual::Residual(ResidualParts parts, const Shape& input_shape, BuildContext&)
    : body(parts.body.module), projection(parts.projection ? parts.projection->module : nullptr) {
  const Shape skip = parts.projection ? parts.projection->output_shape : input_shape;
  DLT_LAYER_CHECK(parts.body.output_shape == skip,
                  "the body's output {} does not match the skip path's {} ({}); add or fix the "
                  "projection",
                  shape_str(parts.body.output_shape), shape_str(skip),
                  parts.projection ? "after the projection" : "the identity");
  register_module("body", body);
  if (projection) register_module("projection", projection);
  output_shape_ = skip;
}

Tensor Residual::forward(const Tensor& x) {
  return add((*body)(x), projection ? (*projection)(x) : x);
}

std::string Residual::describe() const { return projection ? "projection" : "identity skip"; }

static const LayerInfo kResidualInfo{
    .summary = "body(x) + x, or body(x) + projection(x) when the shapes differ",
    .options = {
        {"body", "", "a layer or a list of layers"},
        {"projection", "null", "a layer or list mapping x to the body's output shape"}},
    .example = "{type: Residual, body: [{type: Linear, out: 4}, {type: ReLU}]}",
    .example_input = {4}};

// body: a list of layers (a Sequential) or one layer; projection likewise.
static Built build_residual(const config::Node& spec, const Shape& input_shape,
                            BuildContext& ctx) {
  check_options(spec, kResidualInfo);
  ResidualParts parts{.body = build_model(spec.at("body"), input_shape, ctx),
                      .projection = std::nullopt};
  if (const auto p = spec.find("projection"); p && !p->is_null())
    parts.projection = build_model(*p, input_shape, ctx);
  return make_layer<Residual>(std::move(parts), input_shape, ctx);
}
DLT_REGISTER_LAYER(Residual, build_residual, kResidualInfo);

}  // namespace dlt::nn
