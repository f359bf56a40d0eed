// Encoder attention and ViT: the key padding mask of MultiHeadAttention and
// TransformerBlock against torch (F.multi_head_attention_forward, the math of
// nn.MultiheadAttention), the empty-sequence rule, and ViT against its torch
// twin (tests/nn/torch_nn2_models.py) in float64 and float32, its names, init
// and YAML build on Fashion-MNIST's [28, 28] samples.
#include <cmath>

#include "dlt/config/yaml_reader.h"
#include "dlt/core/grad_mode.h"
#include "dlt/nn/init.h"
#include "dlt/nn/layers/multihead_attention.h"
#include "dlt/nn/layers/transformer_block.h"
#include "dlt/nn/layers/vit.h"
#include "tests/nn/torch_module_parity.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;

constexpr double kRtol32 = 1e-4, kAtol32 = 1e-5;  // f32: summation order differs from torch's

// A module whose child `inner` (attention or a block) is called with the key
// padding mask of per-sequence lengths: (B, T), true at t >= length.
template <class Inner>
class Padded : public nn::Module {
 public:
  Padded(std::shared_ptr<Inner> inner, std::vector<int64_t> lengths)
      : inner_(register_module("inner", std::move(inner))), lengths_(std::move(lengths)) {}
  Tensor forward(const Tensor& x) override {
    const int64_t b = x.size(0), t = x.size(1);
    const Tensor positions = arange(t).view({1, t});
    return inner_->forward(x, ge(positions, from_vector(lengths_, {b, 1})));
  }
  std::string type() const override { return "Padded"; }

 private:
  std::shared_ptr<Inner> inner_;
  std::vector<int64_t> lengths_;
};

Tensor values(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen);
}

nn::ViTOptions small_vit(int64_t layers, int64_t classes) {
  return {.patch_size = 2, .embed_dim = 8, .heads = 2, .layers = layers, .classes = classes};
}

TEST(NN2Encoder, KeyPaddingMaskAndViTMatchTorch) {
  static Generator gen(11);
  BuildContext f64{&gen, DType::f64}, f32{&gen, DType::f32};
  std::vector<ModuleCase> cases;
  for (const bool bias : {true, false}) {
    auto attention = randomized(
        std::make_shared<nn::MultiHeadAttention>(
            nn::MultiHeadAttentionOptions{.heads = 3, .causal = false, .bias = bias}, Shape{5, 12},
            f64),
        1);
    cases.push_back({.name = fmt::format("padded_attention_bias{}", bias),
                     .module = std::make_shared<Padded<nn::MultiHeadAttention>>(
                         attention, std::vector<int64_t>{5, 2}),
                     .input = values({2, 5, 12}, 2),
                     .torch = fmt::format("nn2.TorchPaddedAttention(12, 3, [5, 2], {})",
                                          bias ? "True" : "False")});
  }
  auto block = randomized(std::make_shared<nn::TransformerBlock>(
                              nn::TransformerBlockOptions{.heads = 2, .causal = false},
                              Shape{6, 16}, f64),
                          3);
  cases.push_back(
      {.name = "padded_encoder_block",
       .module = std::make_shared<Padded<nn::TransformerBlock>>(block, std::vector<int64_t>{6, 3, 1}),
       .input = values({3, 6, 16}, 4),
       .torch = "nn2.Padded(nn2.TransformerBlock(16, 2, False), [6, 3, 1])"});

  cases.push_back({.name = "vit",
                   .module = randomized(std::make_shared<nn::ViT>(small_vit(2, 3), Shape{3, 4, 6}, f64), 5),
                   .input = values({2, 3, 4, 6}, 6),
                   .torch = "nn2.ViT(3, 4, 6, 2, 8, 2, 2, 3)"});
  cases.push_back({.name = "vit_grey_images",
                   .module = randomized(std::make_shared<nn::ViT>(small_vit(1, 5), Shape{4, 4}, f64), 7),
                   .input = values({3, 4, 4}, 8),
                   .torch = "nn2.ViT(1, 4, 4, 2, 8, 2, 1, 5)"});
  cases.push_back({.name = "vit_float32",  // timm's init as built
                   .module = std::make_shared<nn::ViT>(small_vit(2, 4), Shape{2, 6, 4}, f32),
                   .input = values({2, 2, 6, 4}, 9).to(DType::f32),
                   .torch = "nn2.ViT(2, 6, 4, 2, 8, 2, 2, 4)",
                   .rtol = kRtol32,
                   .atol = kAtol32});
  const TorchModuleParity parity(std::move(cases));
  DLT_REQUIRE_TORCH();
  for (const std::string& name : parity.names()) {
    SCOPED_TRACE(name);
    parity.expect_match(name);
  }
}

// Padded keys get zero weight: changing them changes nothing, for every
// query (padded queries too: they still attend to the real keys).
TEST(NN2Encoder, PaddedKeysAreIgnored) {
  Generator gen(12);
  BuildContext ctx{&gen, DType::f64};
  nn::MultiHeadAttention attn({.heads = 2, .causal = false}, {5, 8}, ctx);
  const Tensor x = randn({1, 5, 8}, DType::f64, &gen);
  const Tensor mask = from_vector<int64_t>({0, 0, 0, 1, 1}, {1, 5}).to(DType::boolean);
  Tensor changed = x.clone();
  changed.slice(1, 3, 5).add_(3.0);  // the two padded positions
  NoGradGuard no_grad;
  const Tensor y = attn.forward(x, mask), y_changed = attn.forward(changed, mask);
  // Queries 0..2 see only keys 0..2; queries 3, 4 are themselves changed.
  EXPECT_EQ(to_vector<double>(y.slice(1, 0, 3)), to_vector<double>(y_changed.slice(1, 0, 3)));
  // And equal attention over the three real positions alone.
  const Tensor alone = attn.forward(x.slice(1, 0, 3).contiguous());
  const auto a = to_vector<double>(alone), b = to_vector<double>(y.slice(1, 0, 3).contiguous());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << i;
}

// A sequence of padding only has no key to attend to: its attention output
// is zero (the layer returns proj's bias at every position) and nothing is
// NaN, forward or backward; other sequences are unaffected.
TEST(NN2Encoder, AllPaddingSequenceAttendsToNothing) {
  Generator gen(13);
  BuildContext ctx{&gen, DType::f64};
  auto attn = std::make_shared<nn::MultiHeadAttention>(
      nn::MultiHeadAttentionOptions{.heads = 2, .causal = false}, Shape{4, 8}, ctx);
  Tensor x = randn({2, 4, 8}, DType::f64, &gen).requires_grad_(true);
  const Tensor mask = from_vector<int64_t>({0, 0, 1, 1, 1, 1, 1, 1}, {2, 4}).to(DType::boolean);
  const Tensor y = attn->forward(x, mask);
  const Tensor proj_bias = attn->state_dict().at("proj.bias");
  for (int64_t t = 0; t < 4; ++t)
    EXPECT_EQ(to_vector<double>(y.select(0, 1).select(0, t)), to_vector<double>(proj_bias)) << t;
  sum(y * y).backward();
  for (double g : to_vector<double>(x.grad())) ASSERT_TRUE(std::isfinite(g));
  for (double g : to_vector<double>(x.grad().select(0, 1))) EXPECT_EQ(g, 0.0);
  NoGradGuard no_grad;
  const auto alone = to_vector<double>(attn->forward(x.slice(0, 0, 1), mask.slice(0, 0, 1)));
  const auto in_batch = to_vector<double>(y.slice(0, 0, 1).contiguous());
  ASSERT_EQ(alone.size(), in_batch.size());
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_NEAR(alone[i], in_batch[i], 1e-12) << i;
}

TEST(NN2Encoder, KeyPaddingMaskShapeAndDtypeAreChecked) {
  Generator gen(14);
  BuildContext ctx{&gen};
  nn::MultiHeadAttention attn({.heads = 2, .causal = false}, {4, 8}, ctx);
  const Tensor x = zeros({2, 4, 8});
  expect_error([&] { attn.forward(x, zeros({2, 3}, DType::boolean)); },
               {"key_padding_mask (B, T) = [2, 4]", "[2, 3]"});
  expect_error([&] { attn.forward(x, zeros({2, 4})); }, {"bool key_padding_mask", "float32"});
}

TEST(NN2ViT, NamesAndShapesFollowTimm) {
  Generator gen(15);
  BuildContext ctx{&gen};
  nn::ViT vit(small_vit(2, 10), {1, 4, 6}, ctx);
  const auto sd = vit.state_dict();
  EXPECT_EQ(sd.at("patch_embed.proj.weight").shape(), (Shape{8, 1, 2, 2}));
  EXPECT_EQ(sd.at("cls_token").shape(), (Shape{1, 1, 8}));
  EXPECT_EQ(sd.at("pos_embed").shape(), (Shape{1, 7, 8}));  // 2 x 3 patches + the class token
  for (const char* name : {"blocks.1.ln1.weight", "blocks.1.attn.qkv.weight",
                           "blocks.1.mlp.fc.weight", "norm.weight", "head.weight", "head.bias"})
    EXPECT_EQ(sd.count(name), 1u) << name;
  EXPECT_EQ(vit.output_shape(), Shape{10});
  EXPECT_EQ(vit.forward(zeros({3, 1, 4, 6})).shape(), (Shape{3, 10}));
  expect_error([&] { vit.forward(zeros({3, 1, 6, 4})); }, {"ViT", "(B, 1, 4, 6)", "[3, 1, 6, 4]"});
}

TEST(NN2ViT, InitIsTimms) {
  Generator gen(16);
  BuildContext ctx{&gen};
  nn::ViT vit({.patch_size = 4, .embed_dim = 64, .heads = 4, .layers = 2, .classes = 10},
              {3, 32, 32}, ctx);
  const auto sd = vit.state_dict();
  auto stats = [](const Tensor& t) {
    const auto v = to_vector<float>(t);
    double mean = 0, sq = 0, most = 0;
    for (float x : v) mean += x, sq += double(x) * x, most = std::max(most, std::abs(double(x)));
    mean /= double(v.size());
    return std::array<double, 3>{mean, std::sqrt(sq / double(v.size()) - mean * mean), most};
  };
  for (const char* name : {"pos_embed", "head.weight", "blocks.0.attn.qkv.weight",
                           "blocks.1.mlp.proj.weight"}) {
    const auto [mean, sd_, most] = stats(sd.at(name));
    EXPECT_NEAR(mean, 0, 0.003) << name;
    EXPECT_NEAR(sd_, 0.02, 0.0015) << name;  // timm's cut at +-2 is 100 std away
    EXPECT_LE(most, 0.02 * 6) << name;
  }
  EXPECT_LE(stats(sd.at("cls_token"))[2], 1e-5);
  for (const char* name : {"head.bias", "blocks.0.attn.qkv.bias", "blocks.0.ln1.bias", "norm.bias"})
    EXPECT_EQ(stats(sd.at(name))[2], 0.0) << name;
  EXPECT_EQ(to_vector<float>(sd.at("norm.weight")), std::vector<float>(64, 1.0f));
}

TEST(NN2ViT, TruncNormalStaysInItsInterval) {
  Generator gen(18);
  Tensor t = empty({20000}, DType::f64);
  nn::init::trunc_normal_(t, 0.5, 1.0, 0, 1, &gen);
  const auto v = to_vector<double>(t);
  double mean = 0;
  for (double x : v) {
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 1.0);
    mean += x;
  }
  EXPECT_NEAR(mean / double(v.size()), 0.5, 0.01);  // symmetric around the mean
  expect_error([&] { nn::init::trunc_normal_(t, 0, 1, 5, 6, &gen); }, {"less than 1%"});
}

TEST(NN2ViT, BuildsFromYamlOnGreyImagesAndNamesItsPathInErrors) {
  Generator gen(17);
  BuildContext ctx{&gen};
  const auto doc = config::load_string(R"(
model:
  - type: ViT
    patch_size: 7
    embed_dim: 32
    heads: 4
    layers: 2
    classes: 10
)",
                                       "vit.yaml");
  const nn::Built vit = nn::build_model(doc.at("model"), {28, 28}, ctx);
  EXPECT_EQ(vit.output_shape, Shape{10});
  EXPECT_EQ(vit.module->forward(zeros({2, 28, 28})).shape(), (Shape{2, 10}));
  const auto bad = config::load_string("model:\n  - type: ViT\n    patch_size: 5\n"
                                       "    embed_dim: 8\n    classes: 10\n",
                                       "vit.yaml");
  expect_error([&] { nn::build_model(bad.at("model"), {28, 28}, ctx); },
               {"vit.yaml:2:5: model[0] (ViT): patch_size 5 must divide", "[1, 28, 28]"});
}

}  // namespace
}  // namespace dlt::testing
