// The option tables of the layers (what `dlt layers` prints): every layer
// has one, its example builds, each literal default is what the builder
// reads when the key is absent, and the new layers' shape errors name the
// layer's path.
#include "dlt/config/yaml_reader.h"
#include "dlt/nn/registry.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

struct Snapshot {
  Shape output_shape;
  std::string describe;
  std::vector<std::pair<std::string, Shape>> state;  // names and shapes
};

Snapshot build_snapshot(const std::string& yaml_map, const Shape& input_shape) {
  Generator gen(3);
  BuildContext ctx{.gen = &gen, .dtype = DType::f64};
  const Built b = build_layer(config::load_string(yaml_map, "example.yaml"), input_shape, ctx);
  Snapshot s{b.output_shape, b.module->describe(), {}};
  for (const auto& [name, t] : b.module->state_dict()) s.state.emplace_back(name, t.shape());
  return s;
}

// A default written in words, such as "(the input's T)", is derived from the
// input or another option; a YAML value is a literal one.
bool is_literal(std::string_view default_value) {
  return !default_value.empty() && default_value.front() != '(';
}

TEST(LayerOptions, EveryLayerHasATableAndItsExampleBuilds) {
  for (const std::string& type : registered_layers()) {
    SCOPED_TRACE(type);
    const LayerInfo* info = layer_info(type);
    ASSERT_NE(info, nullptr) << type << " is registered without an option table";
    EXPECT_FALSE(info->summary.empty());
    EXPECT_NE(info->example.find("type: " + type), std::string_view::npos) << info->example;
    for (const LayerOption& o : info->options) EXPECT_FALSE(o.meaning.empty()) << o.key;
    EXPECT_NO_THROW(build_snapshot(std::string(info->example), info->example_input));
  }
}

// Setting an option to its documented default changes nothing: the table and
// the builder agree on every literal default.
TEST(LayerOptions, LiteralDefaultsAreTheBuildersDefaults) {
  int checked = 0;
  for (const std::string& type : registered_layers()) {
    const LayerInfo* info = layer_info(type);
    ASSERT_NE(info, nullptr) << type;
    const std::string example(info->example);
    const Snapshot plain = build_snapshot(example, info->example_input);
    for (const LayerOption& o : info->options) {
      if (!is_literal(o.default_value)) continue;
      if (config::load_string(example, "example.yaml").has(o.key)) continue;
      const std::string with_default = fmt::format("{}, {}: {}}}", example.substr(0, example.rfind('}')),
                                                   o.key, o.default_value);
      SCOPED_TRACE(with_default);
      const Snapshot explicit_default = build_snapshot(with_default, info->example_input);
      EXPECT_EQ(explicit_default.output_shape, plain.output_shape);
      EXPECT_EQ(explicit_default.describe, plain.describe);
      EXPECT_EQ(explicit_default.state, plain.state);
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(LayerOptions, UnknownKeysAreRejectedWithTheClosestOption) {
  Generator gen(4);
  BuildContext ctx{.gen = &gen};
  expect_error(
      [&] {
        build_layer(config::load_string("{type: Upsample, scale_factor: 2, modes: nearest}", "u.yaml"),
                    {1, 4, 4}, ctx);
      },
      {"unknown key 'modes'", "did you mean 'mode'?"});
}

// Each new layer's mistakes name the config path and the layer type.
TEST(LayerOptions, NewLayersNameTheirPathInShapeErrors) {
  const struct {
    const char* yaml;
    Shape input;
    std::vector<std::string> pieces;
  } cases[] = {
      {"- {type: Conv1d, out_channels: 4, kernel_size: 3}", {784},
       {"m.yaml:2:5: model[0] (Conv1d): expected input [C, L], got [784]"}},
      {"- {type: Conv1d, out_channels: 4, kernel_size: 9}", {2, 5},
       {"model[0] (Conv1d): kernel 9 (dilation 1) is larger than the padded input [2, 5]"}},
      {"- {type: GroupNorm, num_groups: 3}", {4, 5},
       {"model[0] (GroupNorm): num_groups (3) must divide the 4 channels of input [4, 5]"}},
      {"- {type: Softmax, dim: 3}", {4},
       {"model[0] (Softmax): dim 3 is out of range for input [4]"}},
      {"- {type: Flatten}\n  - {type: LogSoftmax, dim: -3}", {2, 3},
       {"model[1] (LogSoftmax): dim -3 is out of range for input [6]"}},
      {"- {type: ConvTranspose2d, out_channels: 2, kernel_size: 2}", {10},
       {"model[0] (ConvTranspose2d): expected input [C, H, W], got [10]"}},
      {"- {type: ConvTranspose2d, out_channels: 2, kernel_size: 3, stride: 2, output_padding: 2}",
       {1, 4, 4},
       {"model[0] (ConvTranspose2d): output_padding 2 must be non-negative and smaller than the "
        "stride 2"}},
      {"- {type: Upsample, scale_factor: 2}", {4, 5},
       {"model[0] (Upsample): expected input [C, H, W], got [4, 5]"}},
      {"- {type: Upsample, size: 4, scale_factor: 2}", {1, 4, 5},
       {"model[0] (Upsample): give exactly one of size and scale_factor"}},
      {"- {type: Upsample, scale_factor: 2, align_corners: true}", {1, 4, 5},
       {"model[0] (Upsample): align_corners applies to mode bilinear only"}},
      {"- {type: Upsample, scale_factor: 0}", {1, 4, 5},
       {"model[0].scale_factor: must be positive"}},
      {"- {type: Upsample, scale_factor: 2, mode: bicubic}", {1, 4, 5},
       {"model[0].mode: expected 'nearest' or 'bilinear', got 'bicubic'"}},
      {"- {type: LeakyReLU, negative_slope: steep}", {4},
       {"model[0].negative_slope", "steep"}},
      {"- {type: Identity, p: 0.1}", {4}, {"model[0]", "unknown key 'p'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    Generator gen(5);
    BuildContext ctx{.gen = &gen};
    const auto doc = config::load_string(std::string("model:\n  ") + c.yaml + "\n", "m.yaml");
    expect_error([&] { build_model(doc.at("model"), c.input, ctx); },
                 std::initializer_list<std::string>{});
    try {
      build_model(doc.at("model"), c.input, ctx);
    } catch (const Error& e) {
      for (const std::string& piece : c.pieces)
        EXPECT_THAT(e.what(), ::testing::HasSubstr(piece));
    }
  }
}

}  // namespace
}  // namespace dlt::testing
