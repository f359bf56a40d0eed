#include "dlt/nn/registry.h"

#include <map>

#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/sequential.h"
#include "dlt/nn/summary.h"

namespace dlt::nn {

namespace {

// Filled by static initialisers of the layer files; a function-local static
// so it exists before the first of them runs.
struct Registration {
  LayerBuilder builder;
  const LayerInfo* info;
};

std::map<std::string, Registration>& builders() {
  static std::map<std::string, Registration> map;
  return map;
}

}  // namespace

bool register_layer(const char* type, LayerBuilder builder, const LayerInfo* info) {
  const bool inserted = builders().emplace(type, Registration{builder, info}).second;
  DLT_ASSERT(inserted, "layer type '{}' is registered twice", type);
  return true;
}

std::vector<std::string> registered_layers() {
  std::vector<std::string> out;
  for (const auto& [type, registration] : builders()) out.push_back(type);
  return out;
}

const LayerInfo* layer_info(const std::string& type) {
  const auto it = builders().find(type);
  return it == builders().end() ? nullptr : it->second.info;
}

void check_options(const config::Node& spec, const LayerInfo& info) {
  std::vector<std::string> allowed{"type"};
  for (const LayerOption& o : info.options) allowed.emplace_back(o.key);
  spec.check_keys(allowed);
}

Built build_layer(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  if (!spec.is_map()) spec.fail("expected a layer: a map with a `type:` key");
  const config::Node type_node = spec.at("type");
  const auto type = type_node.as<std::string>();
  const auto it = builders().find(type);
  if (it == builders().end()) {
    const std::vector<std::string> known = registered_layers();
    const std::string close = config::closest_match(type, known);
    type_node.fail(fmt::format("unknown layer type '{}'{}; known types: {}", type,
                               close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close),
                               fmt::join(known, ", ")));
  }
  // This layer's summary row goes before its children's.
  const size_t row = ctx.summary ? ctx.summary->size() : 0;
  if (ctx.summary) {
    ctx.summary->push_back({.path = spec.path(), .type = type, .options = {}, .output_shape = {},
                            .parameters = 0, .depth = ctx.depth});
  }
  Built built;
  ++ctx.depth;
  try {
    built = it->second.builder(spec, input_shape, ctx);
  } catch (const LayerError& e) {
    --ctx.depth;
    // The layer's options do not fit its input: name the layer and where it is.
    throw Error(fmt::format("{}: {} ({}): {}", spec.location(), spec.path(), type, e.what()));
  } catch (...) {
    --ctx.depth;
    throw;
  }
  --ctx.depth;
  if (ctx.summary) {
    SummaryRow& r = (*ctx.summary)[row];
    r.type = built.module->type();
    r.options = built.module->describe();
    r.output_shape = built.output_shape;
    r.parameters = built.module->num_parameters();
  }
  return built;
}

Built build_model(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  if (spec.is_map()) return build_layer(spec, input_shape, ctx);
  if (!spec.is_sequence()) spec.fail("expected a list of layers or one layer (a map with `type:`)");
  auto seq = std::make_shared<Sequential>(input_shape);
  for (size_t i = 0; i < spec.size(); ++i)
    seq->push_back(build_layer(spec.at(i), seq->output_shape(), ctx));
  return {seq, seq->output_shape()};
}

}  // namespace dlt::nn
