// dlt layers [TYPE]: every registered layer type with its YAML options
// (name, default, meaning), from the option table each layer registers.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "cli/commands.h"
#include "dlt/config/yaml_reader.h"
#include "dlt/core/error.h"
#include "dlt/nn/registry.h"

namespace dlt::cli {
namespace {

// One layer: its summary, then an aligned row per option, then an example.
std::string describe_layer(const std::string& type) {
  const nn::LayerInfo* info = nn::layer_info(type);
  if (!info) return fmt::format("{}\n  (registered without an option table)\n", type);
  std::string out = fmt::format("{}: {}\n", type, info->summary);
  size_t key_width = 0, default_width = std::string_view("required").size();
  for (const nn::LayerOption& o : info->options) {
    key_width = std::max(key_width, o.key.size());
    default_width = std::max(default_width, o.default_value.size());
  }
  if (info->options.empty()) out += "  (no options)\n";
  for (const nn::LayerOption& o : info->options)
    out += fmt::format("  {:<{}}  {:<{}}  {}\n", o.key, key_width,
                       o.default_value.empty() ? "required" : o.default_value, default_width,
                       o.meaning);
  out += fmt::format("  example: {}\n", info->example);
  return out;
}

}  // namespace

void add_layers_command(CLI::App& app) {
  auto type = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "layers",
      "List the layer types a model may use, each with its options (name, default, meaning).\n"
      "Example: dlt layers Conv2d");
  cmd->add_option("type", *type, "One layer type (default: all)");
  cmd->callback([type] {
    const std::vector<std::string> known = nn::registered_layers();
    if (!type->empty() && std::find(known.begin(), known.end(), *type) == known.end()) {
      const std::string close = config::closest_match(*type, known);
      throw Error(fmt::format("unknown layer type '{}'{}; known types: {}", *type,
                              close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close),
                              fmt::join(known, ", ")));
    }
    if (!type->empty()) return fmt::print("{}", describe_layer(*type));
    for (size_t i = 0; i < known.size(); ++i)
      fmt::print("{}{}", i ? "\n" : "", describe_layer(known[i]));
  });
}

}  // namespace dlt::cli
