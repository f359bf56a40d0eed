// The small ResNet: parity with a torch twin (tests/nn/torch_nn2_models.py)
// in training mode (batch statistics, running-stat updates) and eval mode,
// torchvision's names, and shapes for 28x28 and 32x32 inputs.
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/resnet.h"
#include "tests/nn/torch_module_parity.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;

const nn::ResNetOptions kSmall{.classes = 5, .widths = {4, 8, 8}, .blocks = {2, 1, 1}};

// Training mode (batch statistics, running-statistics updates) and eval mode
// after a few training forwards (non-trivial running statistics).
TEST(NN2ResNet, MatchesTorchInTrainingAndEval) {
  static Generator gen(21);
  BuildContext ctx{&gen, DType::f64};
  auto training = std::make_shared<nn::ResNet>(kSmall, Shape{3, 12, 12}, ctx);
  auto evaluating = std::make_shared<nn::ResNet>(kSmall, Shape{3, 12, 12}, ctx);
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) (*evaluating)(randn({4, 3, 12, 12}, DType::f64, &gen) * 2.0 + 0.5);
  }
  evaluating->eval();
  const std::string twin = "nn2.ResNet(3, 5, [4, 8, 8], [2, 1, 1])";
  const TorchModuleParity parity(
      {{.name = "train",
        .module = training,
        .input = randn({3, 3, 12, 12}, DType::f64, &gen),
        .torch = twin},
       {.name = "eval",
        .module = evaluating,
        .input = randn({3, 3, 12, 12}, DType::f64, &gen),
        .torch = twin,
        .training = false},
       {.name = "one_channel",
        .module = std::make_shared<nn::ResNet>(nn::ResNetOptions{.classes = 3}, Shape{10, 10}, ctx),
        .input = randn({2, 10, 10}, DType::f64, &gen),
        .torch = "nn2.ResNet(1, 3, [16, 32, 64], [2, 2, 2])"}});
  DLT_REQUIRE_TORCH();
  for (const std::string& name : parity.names()) {
    SCOPED_TRACE(name);
    parity.expect_match(name);
  }
}

TEST(NN2ResNet, NamesFollowTorchvision) {
  Generator gen(22);
  BuildContext ctx{&gen};
  nn::ResNet net(kSmall, {3, 12, 12}, ctx);
  const auto state = net.state_dict();
  for (const char* name :
       {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn2.weight",
        "layer1.1.conv2.weight", "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_var", "layer3.0.conv1.weight", "fc.weight", "fc.bias"})
    EXPECT_TRUE(state.count(name)) << name;
  // Stage 1 keeps the shape (no projection); stage 3 changes stride only.
  EXPECT_FALSE(state.count("layer1.0.downsample.0.weight"));
  EXPECT_TRUE(state.count("layer3.0.downsample.0.weight"));
  EXPECT_FALSE(state.count("conv1.bias"));
  EXPECT_EQ(state.at("layer2.0.downsample.0.weight").shape(), (Shape{8, 4, 1, 1}));
  EXPECT_EQ(state.at("fc.weight").shape(), (Shape{5, 8}));
  EXPECT_EQ(state.at("bn1.num_batches_tracked").dtype(), DType::i64);
}

TEST(NN2ResNet, ShapesForMnistAndCifarSizes) {
  Generator gen(23);
  BuildContext ctx{&gen};
  nn::ResNet gray({.classes = 10}, {28, 28}, ctx);
  nn::ResNet color({.classes = 10}, {3, 32, 32}, ctx);
  NoGradGuard no_grad;
  EXPECT_EQ(gray(randn({2, 28, 28}, {}, &gen)).shape(), (Shape{2, 10}));  // (B, H, W): one channel
  EXPECT_EQ(gray(randn({2, 1, 28, 28}, {}, &gen)).shape(), (Shape{2, 10}));
  EXPECT_EQ(color(randn({2, 3, 32, 32}, {}, &gen)).shape(), (Shape{2, 10}));
  expect_error([&] { color(randn({2, 1, 32, 32}, {}, &gen)); }, {"(B, 3, H, W)", "[2, 1, 32, 32]"});
}

TEST(NN2ResNet, BadOptionsAreErrors) {
  Generator gen(24);
  BuildContext ctx{&gen};
  expect_error(
      [&] {
        nn::ResNet({.classes = 2, .widths = {16, 32}, .blocks = {1}}, {28, 28}, ctx);
      },
      {"widths [16, 32]", "blocks [1]"});
  expect_error(
      [&] {
        nn::ResNet({.classes = 2, .widths = {16, 0}, .blocks = {1, 1}}, {28, 28}, ctx);
      },
      {"stage 2"});
  expect_error([&] { nn::ResNet({.classes = 2}, {784}, ctx); }, {"[C, H, W] or [H, W]", "[784]"});
  expect_error(
      [&] {
        nn::ResNet({.classes = 2, .widths = {4, 4, 4, 4}, .blocks = {1, 1, 1, 1}}, {4, 4}, ctx);
      },
      {"4x4 image is too small for 4 stages"});
}

}  // namespace
}  // namespace dlt::testing
