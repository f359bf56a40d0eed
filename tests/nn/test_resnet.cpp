// The small ResNet: parity with a torch twin (tests/nn/torch_nn2_models.py)
// in training mode (batch statistics, running-stat updates) and eval mode,
// torchvision's names, and shapes for 28x28 and 32x32 inputs.
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/resnet.h"
#include "tests/nn/nn2_torch_twin.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;

// float64 on both sides: a structural mistake shows as O(1), rounding as 1e-12.
constexpr double kRtol64 = 1e-8, kAtol64 = 1e-9;

std::map<std::string, std::string> resnet_spec(const std::string& mode) {
  return {{"model", "ResNet"}, {"in_channels", "3"}, {"classes", "5"},
          {"widths", "4,8,8"},  {"blocks", "2,1,1"},  {"mode", mode}};
}

const nn::ResNetOptions kSmall{.classes = 5, .widths = {4, 8, 8}, .blocks = {2, 1, 1}};

TEST(NN2ResNet, MatchesTorchInTrainingAndEval) {
  if (!torch_available()) GTEST_SKIP() << "*** /usr/bin/python3 has no torch: torch parity NOT TESTED ***";
  for (const std::string mode : {"train", "eval"}) {
    SCOPED_TRACE(mode);
    Generator gen(21);
    BuildContext ctx{&gen, DType::f64};
    nn::ResNet net(kSmall, {3, 12, 12}, ctx);
    if (mode == "eval") {  // non-trivial running statistics first
      NoGradGuard no_grad;
      net(randn({4, 3, 12, 12}, DType::f64, &gen) * 2.0 + 0.5);
      net.eval();
    }
    const Tensor x = randn({3, 3, 12, 12}, DType::f64, &gen);
    expect_matches_torch(net, x, {.spec = resnet_spec(mode), .rtol = kRtol64, .atol = kAtol64});
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
        "layer1.1.conv2.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
        "layer3.0.conv1.weight", "fc.weight", "fc.bias"})
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
  expect_error([&] { nn::ResNet({.classes = 2, .widths = {16, 32}, .blocks = {1}}, {28, 28}, ctx); },
               {"widths [16, 32]", "blocks [1]"});
  expect_error([&] { nn::ResNet({.classes = 2, .widths = {16, 0}, .blocks = {1, 1}}, {28, 28}, ctx); },
               {"stage 2"});
  expect_error([&] { nn::ResNet({.classes = 2}, {784}, ctx); }, {"[C, H, W] or [H, W]", "[784]"});
  expect_error([&] { nn::ResNet({.classes = 2, .widths = {4, 4, 4, 4}, .blocks = {1, 1, 1, 1}}, {4, 4}, ctx); },
               {"4x4 image is too small for 4 stages"});
}

}  // namespace
}  // namespace dlt::testing
