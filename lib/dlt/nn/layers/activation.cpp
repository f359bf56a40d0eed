#include "dlt/nn/layers/activation.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

Activation::Activation(ActivationKind k, const Shape& input_shape, BuildContext&) : kind(k) {
  output_shape_ = input_shape;
}

Tensor Activation::forward(const Tensor& x) {
  switch (kind) {
    case ActivationKind::relu: return relu(x);
    case ActivationKind::gelu: return gelu(x, false);
    case ActivationKind::gelu_tanh: return gelu(x, true);
    case ActivationKind::silu: return silu(x);
    case ActivationKind::tanh: return tanh(x);
    case ActivationKind::sigmoid: return sigmoid(x);
  }
  DLT_ASSERT(false, "unknown activation kind {}", int(kind));
}

std::string Activation::type() const {
  switch (kind) {
    case ActivationKind::relu: return "ReLU";
    case ActivationKind::gelu:
    case ActivationKind::gelu_tanh: return "GELU";
    case ActivationKind::silu: return "SiLU";
    case ActivationKind::tanh: return "Tanh";
    case ActivationKind::sigmoid: return "Sigmoid";
  }
  DLT_ASSERT(false, "unknown activation kind {}", int(kind));
}

std::string Activation::describe() const {
  return kind == ActivationKind::gelu_tanh ? "approximate=tanh" : "";
}

static const LayerInfo kReLUInfo{.summary = "max(x, 0) elementwise (torch.nn.ReLU)",
                                 .options = {},
                                 .example = "{type: ReLU}",
                                 .example_input = {4}};
static const LayerInfo kSiLUInfo{.summary = "x * sigmoid(x) elementwise (torch.nn.SiLU)",
                                 .options = {},
                                 .example = "{type: SiLU}",
                                 .example_input = {4}};
static const LayerInfo kTanhInfo{.summary = "tanh(x) elementwise (torch.nn.Tanh)",
                                 .options = {},
                                 .example = "{type: Tanh}",
                                 .example_input = {4}};
static const LayerInfo kSigmoidInfo{.summary = "1 / (1 + exp(-x)) elementwise (torch.nn.Sigmoid)",
                                    .options = {},
                                    .example = "{type: Sigmoid}",
                                    .example_input = {4}};
static const LayerInfo kGELUInfo{
    .summary = "x * Phi(x) elementwise (torch.nn.GELU)",
    .options = {{"approximate", "none", "none (exact, by erf) or tanh"}},
    .example = "{type: GELU}",
    .example_input = {4}};

template <ActivationKind kind, const LayerInfo& info>
static Built build_activation(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, info);
  return make_layer<Activation>(kind, input_shape, ctx);
}

static Built build_gelu(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kGELUInfo);
  const std::string approximate = spec.get_or<std::string>("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    spec.at("approximate").fail(fmt::format("expected 'none' or 'tanh', got '{}'", approximate));
  return make_layer<Activation>(approximate == "tanh" ? ActivationKind::gelu_tanh
                                                      : ActivationKind::gelu,
                                input_shape, ctx);
}

DLT_REGISTER_LAYER(ReLU, (build_activation<ActivationKind::relu, kReLUInfo>), kReLUInfo);
DLT_REGISTER_LAYER(GELU, build_gelu, kGELUInfo);
DLT_REGISTER_LAYER(SiLU, (build_activation<ActivationKind::silu, kSiLUInfo>), kSiLUInfo);
DLT_REGISTER_LAYER(Tanh, (build_activation<ActivationKind::tanh, kTanhInfo>), kTanhInfo);
DLT_REGISTER_LAYER(Sigmoid, (build_activation<ActivationKind::sigmoid, kSigmoidInfo>),
                   kSigmoidInfo);

}  // namespace dlt::nn
