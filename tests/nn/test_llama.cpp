// Llama and RMSNorm: parity with torch twins written after Meta's reference
// model (tests/nn/torch_nn2_models.py), Meta's parameter names, causal
// masking, grouped-query heads, incremental decoding with a KV cache (GPT and
// Llama: the logits equal a full forward pass), and YAML mistakes.
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/gpt.h"
#include "dlt/nn/layers/llama.h"
#include "dlt/nn/layers/rms_norm.h"
#include "dlt/nn/registry.h"
#include "tests/nn/torch_module_parity.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;

nn::LlamaOptions small_llama(int64_t kv_heads, bool tying) {
  return {.vocab_size = 11, .block_size = 8, .embed_dim = 16, .heads = 4, .kv_heads = kv_heads,
          .layers = 2, .ffn_dim = 24, .weight_tying = tying};
}

Tensor token_ids(const Shape& shape, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  return randint(0, vocab, shape, DType::i64, &gen);
}

TEST(NN2Llama, MatchesTorch) {
  static Generator gen(3);
  BuildContext f64{&gen, DType::f64}, f32{&gen, DType::f32};
  std::vector<ModuleCase> cases;
  for (const auto& [kv_heads, tying] : {std::pair{4, false}, {2, false}, {1, true}})
    cases.push_back(
        {.name = fmt::format("llama_kv{}_tying{}", kv_heads, tying),
         .module = randomized(
             std::make_shared<nn::Llama>(small_llama(kv_heads, tying), Shape{7}, f64), 4),
         .input = token_ids({2, 7}, 11, 5),
         .torch = fmt::format("nn2.Llama(11, 8, 16, 4, {}, 2, 24, {})", kv_heads,
                              tying ? "True" : "False")});
  cases.push_back({.name = "llama_float32",
                   .module = std::make_shared<nn::Llama>(small_llama(2, false), Shape{8}, f32),
                   .input = token_ids({2, 8}, 11, 6),
                   .torch = "nn2.Llama(11, 8, 16, 4, 2, 2, 24, False)",
                   .rtol = 1e-4,
                   .atol = 1e-5});
  cases.push_back(
      {.name = "rms_norm",
       .module = randomized(
           std::make_shared<nn::RMSNorm>(nn::RMSNormOptions{.eps = 1e-6}, Shape{3, 8}, f64), 7),
       .input = randn({2, 3, 8}, DType::f64, &gen),
       .torch = "nn2.RMSNorm(8, 1e-6)"});
  const TorchModuleParity parity(std::move(cases));
  DLT_REQUIRE_TORCH();
  for (const std::string& name : parity.names()) {
    SCOPED_TRACE(name);
    parity.expect_match(name);
  }
}

TEST(NN2Llama, ParameterNamesFollowMetasLayout) {
  Generator gen(8);
  BuildContext ctx{&gen};
  nn::Llama llama(small_llama(2, false), {8}, ctx);
  std::vector<std::string> names;
  for (const auto& [name, p] : llama.named_parameters()) names.push_back(name);
  const std::vector<std::string> first_layer = {
      "tok_embeddings.weight",           "layers.0.attention_norm.weight",
      "layers.0.attention.wq.weight",    "layers.0.attention.wk.weight",
      "layers.0.attention.wv.weight",    "layers.0.attention.wo.weight",
      "layers.0.ffn_norm.weight",        "layers.0.feed_forward.w1.weight",
      "layers.0.feed_forward.w2.weight", "layers.0.feed_forward.w3.weight"};
  ASSERT_GE(names.size(), first_layer.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 10), first_layer);
  EXPECT_EQ(names.end()[-2], "norm.weight");
  EXPECT_EQ(names.back(), "output.weight");
  const auto state = llama.state_dict();
  EXPECT_EQ(state.at("layers.1.attention.wk.weight").shape(), (Shape{8, 16}));  // Hkv * D = 2 * 4
  EXPECT_EQ(state.at("layers.1.feed_forward.w1.weight").shape(), (Shape{24, 16}));

  nn::Llama tied(small_llama(2, true), {8}, ctx);
  const auto s = tied.state_dict();
  EXPECT_TRUE(s.at("output.weight").is_same(s.at("tok_embeddings.weight")));
  EXPECT_EQ(tied.named_parameters().size(), names.size() - 1);  // listed once
}

TEST(NN2Llama, FeedForwardWidthFollowsMetasRule) {
  EXPECT_EQ(nn::llama_ffn_dim(4096, 256), 11008);  // Llama 2 7B
  EXPECT_EQ(nn::llama_ffn_dim(128, 32), 352);      // 2/3 * 512 = 341, rounded up
}

TEST(NN2Llama, CausalMaskHidesFutureTokens) {
  Generator gen(9);
  BuildContext ctx{&gen};
  nn::Llama llama(small_llama(2, false), {8}, ctx);
  const Tensor ids = from_vector<int64_t>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 8});
  const Tensor changed = from_vector<int64_t>({1, 2, 3, 4, 9, 6, 7, 8}, {1, 8});
  NoGradGuard no_grad;
  const Tensor a = llama(ids), b = llama(changed);
  for (int64_t t = 0; t < 8; ++t) {
    const auto x = to_vector<float>(a.select(1, t)), y = to_vector<float>(b.select(1, t));
    if (t < 4) EXPECT_EQ(x, y) << "position " << t << " sees position 4";
    else EXPECT_NE(x, y) << "position " << t << " ignores position 4";
  }
}

// Decoding a prompt, then one token at a time, gives the logits of one full
// forward pass at every position.
void expect_decoding_matches_forward(nn::Module& model, nn::CausalLM& lm) {
  model.eval();
  const Tensor ids = token_ids({2, 8}, 11, 10);
  NoGradGuard no_grad;
  const Tensor full = model(ids);  // (B, T, V)
  lm.start_decoding(2, 8);
  std::vector<Tensor> steps = {lm.decode(ids.slice(1, 0, 3))};
  for (int64_t t = 3; t < 8; ++t) steps.push_back(lm.decode(ids.slice(1, t, t + 1)));
  lm.stop_decoding();
  const Tensor decoded = cat(steps, 1);
  ASSERT_EQ(decoded.shape(), full.shape());
  const auto a = to_vector<float>(decoded), b = to_vector<float>(full);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 + 1e-5 * std::abs(b[i])) << i;
  // The cache is gone: a plain forward pass starts at position 0 again.
  EXPECT_TRUE(bitwise_equal(model(ids), full));
}

TEST(NN2Llama, DecodingWithAKvCacheMatchesAFullPass) {
  Generator gen(11);
  BuildContext ctx{&gen};
  for (const int64_t kv_heads : {4, 2, 1}) {
    SCOPED_TRACE(kv_heads);
    nn::Llama llama(small_llama(kv_heads, false), {8}, ctx);
    expect_decoding_matches_forward(llama, llama);
  }
}

TEST(NN2GPT, DecodingWithAKvCacheMatchesAFullPass) {
  Generator gen(12);
  BuildContext ctx{&gen};
  nn::GPT gpt({.vocab_size = 11, .block_size = 8, .embed_dim = 16, .heads = 4, .layers = 2},
              {8}, ctx);
  expect_decoding_matches_forward(gpt, gpt);
}

TEST(NN2Llama, DecodingPastBlockSizeIsAnError) {
  Generator gen(13);
  BuildContext ctx{&gen};
  nn::Llama llama(small_llama(2, false), {8}, ctx);
  llama.eval();
  NoGradGuard no_grad;
  expect_error([&] { llama.start_decoding(1, 9); }, {"capacity of 9", "block_size = 8"});
  llama.start_decoding(1, 8);
  llama.decode(token_ids({1, 8}, 11, 1));
  expect_error([&] { llama.decode(token_ids({1, 1}, 11, 2)); },
               {"positions up to 9 exceed block_size = 8"});
}

nn::Built build(const std::string& yaml, const Shape& input_shape) {
  static Generator gen(17);
  BuildContext ctx{.gen = &gen};
  return nn::build_model(config::load_string(yaml, "m.yaml").at("model"), input_shape, ctx);
}

TEST(NN2Llama, FromYaml) {
  const nn::Built llama = build(R"(
model:
  type: Llama
  vocab_size: 50
  embed_dim: 32
  heads: 4
  kv_heads: 2
  layers: 2
  multiple_of: 32
  weight_tying: true
)",
                                {16});
  EXPECT_EQ(llama.output_shape, (Shape{16, 50}));
  const auto state = llama.module->state_dict();
  EXPECT_EQ(state.at("layers.0.feed_forward.w1.weight").shape(), (Shape{96, 32}));  // 85 -> 96
  EXPECT_EQ(state.at("layers.0.attention.wk.weight").shape(), (Shape{16, 32}));
  EXPECT_TRUE(state.at("output.weight").is_same(state.at("tok_embeddings.weight")));
  llama.module->eval();
  EXPECT_EQ(llama.module->forward(zeros({2, 16}, DType::i64)).shape(), (Shape{2, 16, 50}));

  const nn::Built norm = build("model:\n  type: RMSNorm\n  eps: 1.0e-5\n", {4, 6});
  EXPECT_EQ(norm.output_shape, (Shape{4, 6}));
  EXPECT_EQ(norm.module->describe(), "shape=[6], eps=1e-05");
}

TEST(NN2Llama, MistakesPointAtTheLayer) {
  const auto llama = [](const std::string& extra, const Shape& input) {
    build("model:\n  type: Llama\n  vocab_size: 5\n  embed_dim: 16\n" + extra, input);
  };
  expect_error([&] { llama("  heads: 4\n  kv_heads: 3\n", {8}); },
               {"m.yaml:2:3", "(Llama)", "kv_heads (3) must divide heads (4)"});
  expect_error([&] { llama("  heads: 3\n", {8}); },
               {"(Llama)", "heads (3) must divide embed_dim (16) into an even head size"});
  expect_error([&] { llama("  block_size: 4\n", {8}); },
               {"(Llama)", "T = 8 exceeds block_size = 4"});
  expect_error([&] { llama("  kv_head: 2\n", {8}); }, {"m.yaml:5:3", "kv_head", "kv_heads"});
  expect_error([&] { llama("", {8, 3}); }, {"(Llama)", "expected input [T] (token ids)"});
  expect_error([] { build("model:\n  type: RMSNorm\n  shape: [5]\n", {4, 6}); },
               {"(RMSNorm)", "normalized shape [5] must match the last dims of the input"});
}

}  // namespace
}  // namespace dlt::testing
