// Options that make no sense, parameters that cannot be optimized, the
// fused ops' argument checks, and the default parameter groups.
#include "dlt/ops/optim_ops.h"
#include "dlt/optim/optimizers.h"
#include "dlt/optim/param_groups.h"
#include "tests/optim/optim_test_util.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using optim::make_optimizer;
using optim::OptimizerOptions;

NamedParams two_params() { return make_params({{"w", {3, 2}}, {"b", {2}}}, 4); }

TEST(OptimizerOptions, NegativeLearningRateIsAnError) {
  expect_error([] { make_optimizer("adam", {one_group(two_params(), -0.1)}, {}); },
               {"adam: invalid learning rate -0.1", "group 0", ">= 0"});
}

TEST(OptimizerOptions, NegativeWeightDecayIsAnError) {
  expect_error([] { make_optimizer("sgd", {one_group(two_params(), 0.1, -1)}, {}); },
               {"sgd: invalid weight_decay -1"});
}

TEST(OptimizerOptions, BetasOutsideZeroOneAreErrors) {
  expect_error([] { make_optimizer("adam", {one_group(two_params(), 0.1)}, {.beta1 = 1.0}); },
               {"adam: invalid beta1 1", "[0, 1)"});
  expect_error([] { make_optimizer("adamw", {one_group(two_params(), 0.1)}, {.beta2 = -0.5}); },
               {"adamw: invalid beta2 -0.5"});
  expect_error([] { make_optimizer("adam", {one_group(two_params(), 0.1)}, {.eps = -1e-8}); },
               {"adam: invalid eps"});
}

TEST(OptimizerOptions, SgdAndRmspropChecks) {
  expect_error([] { make_optimizer("sgd", {one_group(two_params(), 0.1)}, {.nesterov = true}); },
               {"nesterov momentum requires a momentum > 0 and zero dampening"});
  expect_error(
      [] { make_optimizer("sgd", {one_group(two_params(), 0.1)}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
      {"nesterov"});
  expect_error([] { make_optimizer("sgd", {one_group(two_params(), 0.1)}, {.momentum = -0.9}); },
               {"sgd: invalid momentum -0.9"});
  expect_error([] { make_optimizer("rmsprop", {one_group(two_params(), 0.1)}, {.alpha = -0.1}); },
               {"rmsprop: invalid alpha -0.1"});
}

TEST(OptimizerOptions, UnknownNameListsTheKnownOnes) {
  expect_error([] { make_optimizer("adagrad", {one_group(two_params(), 0.1)}, {}); },
               {"unknown optimizer 'adagrad'", "adam, adamw, rmsprop, sgd"});
  EXPECT_NE(make_optimizer("AdamW", {one_group(two_params(), 0.1)}, {}), nullptr);
}

TEST(OptimizerOptions, ParametersMustBeFloatingAndListedOnce) {
  NamedParams p = two_params();
  expect_error([&] { make_optimizer("sgd", {one_group({p[0], {"tied", p[0].second}}, 0.1)}, {}); },
               {"'tied' is a tensor already given under another name"});
  expect_error([&] { make_optimizer("sgd", {one_group({p[0]}, 0.1), one_group({p[0]}, 0.1)}, {}); },
               {"parameter name 'w' appears more than once"});
  expect_error([] { make_optimizer("sgd", {one_group({{"i", zeros({2}, DType::i64)}}, 0.1)}, {}); },
               {"parameter 'i' has dtype int64"});
}

TEST(FusedOptimizerOps, ArgumentsAreChecked) {
  const Tensor p = zeros({3, 2}), g = zeros({2, 3});
  expect_error([&] { sgd_step_(p, g, Tensor(), {}); },
               {"sgd_step: gradient [2, 3] float32 does not match parameter [3, 2] float32"});
  expect_error([&] { sgd_step_(p, zeros({3, 2}), Tensor(), {.momentum = 0.9}); },
               {"sgd_step: momentum_buffer is required"});
  expect_error([&] { adam_step_(p, zeros({3, 2}), zeros({3, 2}), zeros({3}), {}); },
               {"adam_step: exp_avg_sq [3] float32 does not match parameter [3, 2]"});
  expect_error([&] { rmsprop_step_(zeros({2}, DType::i32), zeros({2}, DType::i32), Tensor(), Tensor(), Tensor(), {}); },
               {"rmsprop_step: parameters of dtype int32 are not supported"});
}

TEST(FusedOptimizerOps, StridedParameterIsUpdatedInPlace) {
  // A transposed (non-contiguous) parameter: the update goes through a copy
  // and lands in the original storage.
  Tensor base = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor p = base.t();  // (3, 2), strides (1, 3)
  const Tensor g = ones({3, 2});
  const uint32_t version = p.version();
  sgd_step_(p, g, Tensor(), {.lr = 0.5});
  EXPECT_EQ(to_vector<float>(base), (std::vector<float>{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
  EXPECT_GT(p.version(), version);
}

TEST(ParamGroups, BiasesNormsAndVectorsGetNoDecay) {
  const NamedParams params = make_params({{"0.weight", {4, 3}},
                                          {"0.bias", {4}},
                                          {"1.weight", {4}},  // a BatchNorm1d scale in a Sequential
                                          {"blocks.0.ln1.weight", {4, 1}},
                                          {"tok_emb.weight", {5, 4}},
                                          {"encoder.norm.gain", {2, 2}}},
                                         2);
  const auto groups = optim::make_param_groups(params, 0.1, 0.01);
  ASSERT_EQ(groups.size(), 2u);
  std::vector<std::string> decayed, exempt;
  for (const auto& [n, t] : groups[0].params) decayed.push_back(n);
  for (const auto& [n, t] : groups[1].params) exempt.push_back(n);
  EXPECT_EQ(decayed, (std::vector<std::string>{"0.weight", "tok_emb.weight"}));
  EXPECT_EQ(exempt, (std::vector<std::string>{"0.bias", "1.weight", "blocks.0.ln1.weight",
                                              "encoder.norm.gain"}));
  EXPECT_DOUBLE_EQ(groups[0].weight_decay, 0.01);
  EXPECT_DOUBLE_EQ(groups[1].weight_decay, 0);
  EXPECT_DOUBLE_EQ(groups[1].lr, 0.1);
  EXPECT_DOUBLE_EQ(groups[1].base_lr, 0.1);
}

TEST(ParamGroups, PatternsAreConfigurableAndTiedWeightsListedOnce) {
  NamedParams params = make_params({{"tok_emb.weight", {5, 4}}, {"bn_like.weight", {4, 4}}}, 2);
  params.emplace_back("head.weight", params[0].second);  // tied to tok_emb
  const auto groups = optim::make_param_groups(params, 0.1, 0.01, {"emb"});
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups[0].params.size(), 1u);
  EXPECT_EQ(groups[0].params[0].first, "bn_like.weight");
  ASSERT_EQ(groups[1].params.size(), 1u);
  EXPECT_EQ(groups[1].params[0].first, "tok_emb.weight");
  // The groups are accepted as they are (no tensor twice).
  EXPECT_NE(make_optimizer("adamw", groups, {}), nullptr);
}

TEST(ParamGroups, EmptyGroupsAreLeftOut) {
  const auto groups = optim::make_param_groups(make_params({{"w", {2, 2}}}, 1), 0.1, 0.01);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(groups[0].weight_decay, 0.01);
}

TEST(AccumulatedGradients, StepUsesTheSummedGradient) {
  // Two micro-batches accumulate into .grad; one step sees their sum.
  Tensor w = from_vector<float>({1, 2}, {2}).requires_grad_();
  auto opt = make_optimizer("sgd", {one_group({{"w", w}}, 0.5)}, {});
  (w * from_vector<float>({1, 1}, {2})).sum().backward();
  (w * from_vector<float>({2, -1}, {2})).sum().backward();
  opt->step();
  EXPECT_EQ(to_vector<float>(w), (std::vector<float>{1 - 0.5f * 3, 2 - 0.5f * 0}));
}

}  // namespace
}  // namespace dlt::testing
