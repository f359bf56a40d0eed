// MultiHeadAttention, TransformerBlock and GPT: parity with torch twins
// (tests/nn/torch_nn2_models.py), causal masking, names, weight tying, the
// block_size check and a short training run.
#include <cmath>
#include <limits>

#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/gpt.h"
#include "dlt/nn/layers/multihead_attention.h"
#include "dlt/nn/layers/transformer_block.h"
#include "tests/nn/torch_module_parity.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;

// float64 modules agree with torch to rounding (the harness's defaults);
// float32 ones differ by summation order between dlt's and torch's kernels.
constexpr double kRtol32 = 1e-4, kAtol32 = 1e-5;

nn::GPTOptions small_gpt(bool tying) {
  return {.vocab_size = 11,
          .block_size = 8,
          .embed_dim = 16,
          .heads = 4,
          .layers = 2,
          .weight_tying = tying};
}

Tensor values(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen);
}

Tensor token_ids(const Shape& shape, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  return randint(0, vocab, shape, DType::i64, &gen);
}

const char* py(bool b) { return b ? "True" : "False"; }

TEST(NN2Transformer, MatchesTorch) {
  static Generator gen(1);
  BuildContext f64{&gen, DType::f64}, f32{&gen, DType::f32};
  std::vector<ModuleCase> cases;
  for (const bool causal : {true, false}) {
    for (const bool bias : {true, false}) {
      const nn::MultiHeadAttentionOptions o{.heads = 3, .causal = causal, .bias = bias};
      auto attention = std::make_shared<nn::MultiHeadAttention>(o, Shape{5, 12}, f64);
      cases.push_back(
          {.name = fmt::format("attention_causal{}_bias{}", causal, bias),
           .module = randomized(attention, 1),
           .input = values({2, 5, 12}, 2),
           .torch = fmt::format("nn2.MultiHeadAttention(12, 3, {}, {})", py(causal), py(bias))});
    }
  }
  for (const bool gelu_tanh : {false, true}) {
    const nn::TransformerBlockOptions o{.heads = 2, .gelu_tanh = gelu_tanh};
    auto block = std::make_shared<nn::TransformerBlock>(o, Shape{6, 16}, f64);
    cases.push_back(
        {.name = fmt::format("block_gelu_tanh{}", gelu_tanh),
         .module = randomized(block, 3),
         .input = values({3, 6, 16}, 4),
         .torch = fmt::format("nn2.TransformerBlock(16, 2, True, True, 4, {})", py(gelu_tanh))});
  }
  for (const bool tying : {true, false})
    cases.push_back(
        {.name = fmt::format("gpt_tying{}", tying),
         .module = randomized(std::make_shared<nn::GPT>(small_gpt(tying), Shape{7}, f64), 5),
         .input = token_ids({2, 7}, 11, 6),
         .torch = fmt::format("nn2.GPT(11, 8, 16, 4, 2, True, True, {})", py(tying))});
  cases.push_back({.name = "gpt_float32",
                   .module = std::make_shared<nn::GPT>(small_gpt(true), Shape{8}, f32),
                   .input = token_ids({2, 8}, 11, 7),
                   .torch = "nn2.GPT(11, 8, 16, 4, 2, True, True, True)",
                   .rtol = kRtol32,
                   .atol = kAtol32});
  const TorchModuleParity parity(std::move(cases));
  DLT_REQUIRE_TORCH();
  for (const std::string& name : parity.names()) {
    SCOPED_TRACE(name);
    parity.expect_match(name);
  }
}

// Output at positions before `changed` must be bitwise unchanged, and some
// output at or after it must change.
void expect_causal(const Tensor& before, const Tensor& after, int64_t changed) {
  const int64_t t = before.size(1);
  for (int64_t i = 0; i < t; ++i) {
    const auto a = to_vector<double>(before.select(1, i)),
               b = to_vector<double>(after.select(1, i));
    if (i < changed)
      EXPECT_EQ(a, b) << "output at t=" << i << " depends on input at t=" << changed;
    else
      EXPECT_NE(a, b) << "output at t=" << i << " ignores input at t=" << changed;
  }
}

TEST(NN2Attention, CausalMaskHidesTheFuture) {
  Generator gen(5);
  BuildContext ctx{&gen};
  nn::MultiHeadAttention attn({.heads = 2}, {6, 8}, ctx);
  const Tensor x = randn({2, 6, 8}, {}, &gen);
  Tensor perturbed = x.clone();
  perturbed.select(1, 3).add_(1.0);  // change every feature at t = 3
  NoGradGuard no_grad;
  expect_causal(attn(x), attn(perturbed), 3);

  // Without the mask, t = 0 sees t = 3.
  nn::MultiHeadAttention full({.heads = 2, .causal = false}, {6, 8}, ctx);
  EXPECT_NE(to_vector<double>(full(x).select(1, 0)),
            to_vector<double>(full(perturbed).select(1, 0)));
}

// In training on the CPU the fused attention drops weights itself; it must
// draw the masks the unfused path draws (weights, then output), so a run
// does not depend on which path its layer takes.
TEST(NN2Attention, TrainingDropoutDrawsTheUnfusedPathsMasks) {
  Generator gen(5);  // the layer's: initialisation, then dropout masks
  BuildContext ctx{&gen, DType::f64};
  constexpr double kP = 0.3;
  nn::MultiHeadAttention attn({.heads = 2, .dropout = kP}, {9, 8}, ctx);
  const Tensor x = randn({2, 9, 8}, DType::f64, &gen);
  gen.set_state(77, 0);
  attn.train();
  const Tensor fused = attn(x);

  const auto state = attn.state_dict();
  Generator same(77);
  const Tensor packed = linear(x, state.at("qkv.weight"), state.at("qkv.bias"))
                            .view({2, 9, 3, 2, 4})
                            .permute({2, 0, 3, 1, 4});  // (3, B, H, T, D)
  const Tensor future = triu(ones({9, 9}, DType::boolean), 1);
  const Tensor scores = masked_fill(matmul(packed.select(0, 0) * 0.5, packed.select(0, 1).transpose(-2, -1)),
                                    future, -std::numeric_limits<double>::infinity());
  const Tensor heads = matmul(dropout(softmax(scores, -1), kP, true, &same), packed.select(0, 2));
  const Tensor y = linear(heads.transpose(1, 2).reshape({2, 9, 8}), state.at("proj.weight"),
                          state.at("proj.bias"));
  const Tensor unfused = dropout(y, kP, true, &same);
  EXPECT_EQ(compare_close(to_vector<double>(fused), to_vector<double>(unfused), 1e-12, 1e-12), "");
  EXPECT_EQ(gen.offset(), same.offset());
}

TEST(NN2GPT, CausalMaskHidesFutureTokens) {
  Generator gen(6);
  BuildContext ctx{&gen};
  nn::GPT gpt(small_gpt(true), {8}, ctx);
  const Tensor ids = from_vector<int64_t>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 8});
  const Tensor changed = from_vector<int64_t>({1, 2, 3, 4, 9, 6, 7, 8}, {1, 8});
  NoGradGuard no_grad;
  expect_causal(gpt(ids), gpt(changed), 4);
}

TEST(NN2GPT, StateDictNamesFollowTorch) {
  Generator gen(7);
  BuildContext ctx{&gen};
  nn::GPT gpt(small_gpt(true), {8}, ctx);
  std::vector<std::string> names;
  for (const auto& [name, t] : gpt.state_dict()) names.push_back(name);
  const std::vector<std::string> block = {"attn.proj.bias",  "attn.proj.weight", "attn.qkv.bias",
                                          "attn.qkv.weight", "ln1.bias",         "ln1.weight",
                                          "ln2.bias",        "ln2.weight",       "mlp.fc.bias",
                                          "mlp.fc.weight",   "mlp.proj.bias",    "mlp.proj.weight"};
  std::vector<std::string> expected;
  for (const char* b : {"blocks.0.", "blocks.1."})
    for (const std::string& n : block) expected.push_back(b + n);
  for (const char* n :
       {"head.weight", "ln_f.bias", "ln_f.weight", "pos_emb.weight", "tok_emb.weight"})
    expected.push_back(n);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);

  const auto state = gpt.state_dict();
  EXPECT_EQ(state.at("blocks.1.attn.qkv.weight").shape(), (Shape{48, 16}));
  EXPECT_EQ(state.at("blocks.1.mlp.fc.weight").shape(), (Shape{64, 16}));
  EXPECT_EQ(state.at("pos_emb.weight").shape(), (Shape{8, 16}));
  EXPECT_EQ(state.at("head.weight").shape(), (Shape{11, 16}));
}

TEST(NN2GPT, TiedWeightIsOneParameterWithBothGradients) {
  Generator gen(8);
  BuildContext ctx{&gen};
  nn::GPT tied(small_gpt(true), {8}, ctx), untied(small_gpt(false), {8}, ctx);
  const auto state = tied.state_dict();
  EXPECT_TRUE(state.at("head.weight").is_same(state.at("tok_emb.weight")));
  EXPECT_FALSE(
      untied.state_dict().at("head.weight").is_same(untied.state_dict().at("tok_emb.weight")));

  // One parameter, under its first name: an optimizer updates it once.
  const auto params = tied.named_parameters();
  EXPECT_EQ(params.size() + 1, untied.named_parameters().size());
  EXPECT_EQ(
      std::count_if(params.begin(), params.end(), [](auto& p) { return p.first == "head.weight"; }),
      0);
  EXPECT_EQ(tied.num_parameters() + 11 * 16, untied.num_parameters());

  // Its gradient is the sum of the embedding's and the head's: embedding
  // rows of unused tokens get only the head's part, which is non-zero.
  const Tensor ids = from_vector<int64_t>({0, 1, 2, 3}, {1, 4});
  tied(ids).sum().backward();
  const Tensor grad = state.at("tok_emb.weight").grad();
  ASSERT_TRUE(grad.defined());
  for (int64_t row : {7, 10})
    EXPECT_GT(to_vector<double>(grad.select(0, row).abs().sum())[0], 0) << row;
  // The parity test against torch (MatchesTorchWithAndWithoutTying) checks the values.
}

TEST(NN2GPT, SequenceLongerThanBlockSizeIsAnError) {
  Generator gen(9);
  BuildContext ctx{&gen};
  nn::GPT gpt(small_gpt(true), {8}, ctx);
  expect_error([&] { gpt(zeros({2, 9}, DType::i64)); }, {"T = 9", "block_size = 8"});
  expect_error([&] { nn::GPT(small_gpt(true), {9}, ctx); }, {"T = 9", "block_size = 8"});
  expect_error([&] { gpt(zeros({2, 4})); }, {"integer token ids", "float32"});
}

TEST(NN2GPT, InitIsGpt2Style) {
  Generator gen(10);
  BuildContext ctx{&gen};
  nn::GPT gpt({.vocab_size = 64, .block_size = 32, .embed_dim = 64, .heads = 4, .layers = 8}, {32},
              ctx);
  const auto state = gpt.state_dict();
  const auto std_of = [&](const std::string& name) {
    return std::sqrt(to_vector<double>(var(state.at(name)))[0]);
  };
  EXPECT_NEAR(std_of("tok_emb.weight"), 0.02, 0.002);
  EXPECT_NEAR(std_of("blocks.0.attn.qkv.weight"), 0.02, 0.002);
  EXPECT_NEAR(std_of("blocks.3.mlp.fc.weight"), 0.02, 0.002);
  EXPECT_NEAR(std_of("blocks.0.attn.proj.weight"), 0.02 / 4, 0.0005);  // 1/sqrt(2 * 8 layers)
  EXPECT_NEAR(std_of("blocks.7.mlp.proj.weight"), 0.02 / 4, 0.0005);
  EXPECT_EQ(to_vector<double>(state.at("blocks.2.attn.qkv.bias").abs().sum())[0], 0.0);
  EXPECT_EQ(to_vector<double>(state.at("ln_f.weight")), std::vector<double>(64, 1.0));
}

TEST(NN2GPT, DropoutOnlyInTraining) {
  Generator gen(11);
  BuildContext ctx{&gen};
  auto options = small_gpt(true);
  options.dropout = 0.2;
  nn::GPT gpt(options, {8}, ctx);
  const Tensor ids = from_vector<int64_t>({1, 2, 3, 4, 5}, {1, 5});
  NoGradGuard no_grad;
  gpt.eval();
  EXPECT_EQ(to_vector<double>(gpt(ids)), to_vector<double>(gpt(ids)));
  gpt.train();
  EXPECT_NE(to_vector<double>(gpt(ids)), to_vector<double>(gpt(ids)));
}

// Plain SGD on a repeating sequence: the model must learn to continue it.
// Larger rates make plain SGD on this model oscillate within 20 steps.
constexpr double kLearningRate = 0.1;
TEST(NN2GPT, LearnsARepeatingSequence) {
  Generator gen(12);
  BuildContext ctx{&gen};
  nn::GPT gpt({.vocab_size = 50, .block_size = 16, .embed_dim = 32, .heads = 2, .layers = 2}, {16},
              ctx);
  // Rows are windows of 3 5 7 11 13 3 5 7 11 13 ... at different offsets.
  const std::vector<int64_t> cycle = {3, 5, 7, 11, 13};
  std::vector<int64_t> input, target;
  for (int64_t row = 0; row < 4; ++row)
    for (int64_t t = 0; t < 16; ++t) {
      input.push_back(cycle[size_t(row + t) % cycle.size()]);
      target.push_back(cycle[size_t(row + t + 1) % cycle.size()]);
    }
  const Tensor ids = from_vector(input, {4, 16}), next = from_vector(target, {4, 16});

  std::vector<double> losses;
  for (int step = 0; step < 20; ++step) {
    gpt.zero_grad();
    const Tensor loss = cross_entropy(gpt(ids).view({64, 50}), next.view({64}));
    losses.push_back(loss.item<double>());
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor p : gpt.parameters()) p.sub_(p.grad() * kLearningRate);
  }
  EXPECT_NEAR(losses.front(), std::log(50.0), 0.2);  // uniform guess at first
  // ln 5 is the loss of guessing among the cycle's 5 tokens without context:
  // ending well below it means the model uses the previous tokens.
  EXPECT_LT(losses.back(), 0.5 * std::log(5.0))
      << fmt::format("losses: {}", fmt::join(losses, ", "));
}

}  // namespace
}  // namespace dlt::testing
