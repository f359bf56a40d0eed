// The composite layers from YAML: MultiHeadAttention, TransformerBlock, GPT
// and ResNet build from their options with shapes inferred from the sample
// shape, and bad options point at the file, the layer and the value.
#include "dlt/nn/registry.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

Built build(const std::string& yaml, const Shape& input_shape) {
  static Generator gen(17);
  BuildContext ctx{.gen = &gen};
  return build_model(config::load_string(yaml, "m.yaml").at("model"), input_shape, ctx);
}

TEST(NN2Yaml, CompositesAreRegistered) {
  const std::vector<std::string> known = registered_layers();
  for (const char* type : {"MultiHeadAttention", "TransformerBlock", "GPT", "ResNet"})
    EXPECT_NE(std::find(known.begin(), known.end(), type), known.end()) << type;
}

TEST(NN2Yaml, GptFromYaml) {
  const Built gpt = build(R"(
model:
  type: GPT
  vocab_size: 65
  embed_dim: 32
  heads: 4
  layers: 2
  dropout: 0.1
)",
                          {16});
  EXPECT_EQ(gpt.output_shape, (Shape{16, 65}));
  EXPECT_EQ(gpt.module->type(), "GPT");
  const auto state = gpt.module->state_dict();
  EXPECT_EQ(state.at("pos_emb.weight").shape(), (Shape{16, 32}));  // block_size from the input
  EXPECT_TRUE(state.at("head.weight").is_same(state.at("tok_emb.weight")));  // tied by default
  EXPECT_TRUE(state.count("blocks.1.mlp.proj.weight"));
  gpt.module->eval();
  EXPECT_EQ(gpt.module->forward(zeros({2, 16}, DType::i64)).shape(), (Shape{2, 16, 65}));

  const Built untied = build(R"(
model:
  type: GPT
  vocab_size: 10
  embed_dim: 8
  block_size: 32
  weight_tying: false
  gelu_approximate: none
)",
                             {16});
  const auto s = untied.module->state_dict();
  EXPECT_EQ(s.at("pos_emb.weight").shape(), (Shape{32, 8}));
  EXPECT_FALSE(s.at("head.weight").is_same(s.at("tok_emb.weight")));
}

TEST(NN2Yaml, BlocksInASequential) {
  const Built model = build(R"(
model:
  - type: Embedding
    num_embeddings: 20
    dim: 16
  - type: MultiHeadAttention
    heads: 2
    causal: false
  - type: TransformerBlock
    heads: 4
    gelu_approximate: tanh
  - type: Linear
    out: 20
)",
                            {8});
  EXPECT_EQ(model.output_shape, (Shape{8, 20}));
  const auto state = model.module->state_dict();
  EXPECT_EQ(state.at("1.qkv.weight").shape(), (Shape{48, 16}));
  EXPECT_EQ(state.at("2.mlp.fc.weight").shape(), (Shape{64, 16}));
  EXPECT_TRUE(state.count("2.ln1.weight"));
}

TEST(NN2Yaml, ResNetFromYaml) {
  const Built net = build(R"(
model:
  type: ResNet
  classes: 10
  widths: [8, 16]
  blocks: [1, 1]
)",
                          {28, 28});
  EXPECT_EQ(net.output_shape, Shape{10});
  const auto state = net.module->state_dict();
  EXPECT_EQ(state.at("conv1.weight").shape(), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(state.at("layer2.0.downsample.0.weight").shape(), (Shape{16, 8, 1, 1}));
  EXPECT_EQ(net.module->forward(zeros({2, 28, 28})).shape(), (Shape{2, 10}));
}

TEST(NN2Yaml, MistakesPointAtTheValue) {
  // heads must divide C: a layer error names the file, path, type and sizes.
  expect_error(
      [] {
        build("model:\n  - type: MultiHeadAttention\n    heads: 3\n", {8, 16});
      },
      {"m.yaml:2:5", "model[0] (MultiHeadAttention)", "heads (3) must divide", "C = 16"});
  expect_error([] { build("model:\n  type: TransformerBlock\n  heads: 2\n", {784}); },
               {"m.yaml:2:3", "(TransformerBlock)", "expected input [T, C], got [784]"});
  expect_error(
      [] {
        build("model:\n  type: GPT\n  vocab_size: 5\n  embed_dim: 8\n  block_size: 4\n", {16});
      },
      {"m.yaml:2:3", "(GPT)", "T = 16 exceeds block_size = 4"});
  expect_error(
      [] {
        build("model:\n  type: GPT\n  vocab_size: 5\n  embed_dim: 8\n  gelu_approximate: fast\n",
              {4});
      },
      {"m.yaml:5:21", "expected 'none' or 'tanh', got 'fast'"});
  expect_error(
      [] {
        build("model:\n  type: GPT\n  vocab_size: 5\n  embed_dim: 8\n  weight_tieing: true\n", {4});
      },
      {"m.yaml:5:3", "weight_tieing", "weight_tying"});
  expect_error(
      [] {
        build("model:\n  type: ResNet\n  classes: 10\n  widths: [8, 16]\n", {28, 28});
      },
      {"(ResNet)", "widths [8, 16] and blocks [2, 2, 2]"});
  expect_error([] { build("model:\n  type: ResNet\n", {28, 28}); }, {"m.yaml", "classes"});
}

}  // namespace
}  // namespace dlt::testing
