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
#include <string_view>
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

// One YAML option of a layer, as `dlt layers` lists it. The table of a layer
// is the one place its keys are declared: its builder checks the keys of a
// spec against it (check_options), so a key cannot be accepted and not listed.
struct LayerOption {
  std::string_view key;
  // The value when the key is absent: YAML text ("1", "true", "null") that the
  // builder's reader falls back to as well (tests/nn/test_layer_options.cpp
  // checks each against the builder), or words for a value derived from the
  // input ("the input's C"); empty when the option is required.
  std::string_view default_value;
  std::string_view meaning;  // one line
};

struct LayerInfo {
  std::string_view summary;  // one line: what the layer computes, its input and output
  std::vector<LayerOption> options;  // every key but `type`
  // A small valid spec of this layer (a YAML flow map) and a sample shape it
  // builds on: printed by `dlt layers TYPE` and used by the option tests.
  std::string_view example;
  Shape example_input;
};

bool register_layer(const char* type, LayerBuilder builder, const LayerInfo* info = nullptr);
std::vector<std::string> registered_layers();  // sorted
// The option table a layer registered with, or null (a layer registered without one).
const LayerInfo* layer_info(const std::string& type);

// Every key of `spec` must be `type` or one of `info`'s options; an unknown
// key is an error naming the closest.
void check_options(const config::Node& spec, const LayerInfo& info);

// Builds one layer. An unknown type lists the known ones and the closest
// match; a shape mismatch names the layer's path and both shapes:
//   mlp.yaml:7:5: model[3] (Conv2d): expected input [C, H, W], got [784]
Built build_layer(const config::Node& spec, const Shape& input_shape, BuildContext& ctx);
// A model spec is a sequence of layers (built as a Sequential) or one layer map.
Built build_model(const config::Node& spec, const Shape& input_shape, BuildContext& ctx);

}  // namespace dlt::nn

// DLT_REGISTER_LAYER(Conv2d, build_conv2d, kConv2dInfo): the option table
// (a LayerInfo defined above it in the same file) is what `dlt layers` prints.
#define DLT_REGISTER_LAYER(type, builder, ...)                        \
  static const bool dlt_layer_registered_##type =                     \
      ::dlt::nn::register_layer(#type, builder __VA_OPT__(, &__VA_ARGS__))
