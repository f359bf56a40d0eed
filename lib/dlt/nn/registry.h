// The layer registry: each layer registers itself by its YAML `type:` name in
// its own file, with a builder that reads its options from YAML and infers
// its parameter shapes from the input's shape:
//
//   DLT_REGISTER_LAYER(Linear, build_linear);
//
// Shapes here exclude the batch dimension: a Fashion-MNIST image is [28, 28].
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dlt/config/yaml_reader.h"
#include "dlt/core/generator.h"
#include "dlt/nn/module.h"

namespace dlt::nn {

struct SummaryRow;

struct BuildContext {
  // Initialisation, and the dropout masks: Dropout layers keep this pointer,
  // so the generator must outlive the model. One seeded generator thus drives
  // a whole run; null means the default generator.
  Generator* gen = nullptr;
  DType dtype = DType::f32;  // parameter dtype
  // When set, build_layer appends one row per layer (summary.h).
  std::vector<SummaryRow>* summary = nullptr;
  int depth = 0;  // nesting of the layer being built (set by build_layer)
};

struct Built {
  std::shared_ptr<Module> module;
  Shape output_shape;  // per sample
};

// spec: a map with `type:` and the layer's options.
using LayerBuilder = Built (*)(const config::Node& spec, const Shape& input_shape,
                               BuildContext& ctx);

bool register_layer(const char* type, LayerBuilder builder);
std::vector<std::string> registered_layers();  // sorted

// Builds one layer. An unknown type lists the known ones and the closest
// match; a shape mismatch names the layer's path and both shapes:
//   mlp.yaml:7:5: model[3] (Conv2d): expected input [C, H, W], got [784]
Built build_layer(const config::Node& spec, const Shape& input_shape, BuildContext& ctx);
// A model spec is a sequence of layers (built as a Sequential) or one layer map.
Built build_model(const config::Node& spec, const Shape& input_shape, BuildContext& ctx);

}  // namespace dlt::nn

#define DLT_REGISTER_LAYER(type, builder) \
  static const bool dlt_layer_registered_##type = ::dlt::nn::register_layer(#type, builder)
