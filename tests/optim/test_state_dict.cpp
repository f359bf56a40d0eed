// Optimizer state: names, lazy creation, a save/load round trip that
// continues bitwise identically, and loads that do not fit.
#include <fmt/format.h>

#include "dlt/optim/optimizers.h"
#include "tests/optim/optim_test_util.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using optim::OptimizerOptions;

const std::vector<std::pair<std::string, Shape>> kSpecs = {
    {"blocks.0.attn.qkv.weight", {12, 4}}, {"blocks.0.attn.qkv.bias", {12}}, {"head.weight", {40000}}};

struct RoundTripCase {
  std::string optimizer;
  OptimizerOptions options;
};

class StateRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// lr varies per step (as a schedule would), so the loaded optimizer must
// continue from the state alone.
void run_steps(optim::Optimizer& opt, const NamedParams& params, int64_t from, int64_t to) {
  for (int64_t s = from; s < to; ++s) {
    set_grads(params, 77, s);
    opt.set_lr_factor(1.0 / double(1 + s));
    opt.step();
  }
}

TEST_P(StateRoundTrip, SaveLoadContinuesBitwise) {
  const RoundTripCase& c = GetParam();
  const NamedParams init = make_params(kSpecs, 5);

  const NamedParams straight = clone_params(init);
  auto reference = optim::make_optimizer(c.optimizer, {one_group(straight, 0.01, 0.1)}, c.options);
  run_steps(*reference, straight, 0, 10);

  const NamedParams first = clone_params(init);
  auto before = optim::make_optimizer(c.optimizer, {one_group(first, 0.01, 0.1)}, c.options);
  run_steps(*before, first, 0, 5);
  std::map<std::string, Tensor> saved;
  for (const auto& [k, v] : before->state_dict()) saved[k] = v.clone();  // as a checkpoint would

  const NamedParams resumed = clone_params(first);  // "fresh copies of the params"
  auto after = optim::make_optimizer(c.optimizer, {one_group(resumed, 0.01, 0.1)}, c.options);
  after->load_state_dict(saved);
  run_steps(*after, resumed, 5, 10);

  for (size_t i = 0; i < init.size(); ++i)
    EXPECT_TRUE(bitwise_equal(resumed[i].second, straight[i].second)) << resumed[i].first;
  const auto expected = reference->state_dict(), actual = after->state_dict();
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [k, v] : expected) {
    ASSERT_TRUE(actual.count(k)) << k;
    EXPECT_TRUE(bitwise_equal(actual.at(k), v)) << k;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Optim, StateRoundTrip,
    ::testing::Values(RoundTripCase{"sgd", {.momentum = 0.9, .nesterov = true}},
                      RoundTripCase{"sgd", {}}, RoundTripCase{"adam", {}},
                      RoundTripCase{"adamw", {}},
                      RoundTripCase{"rmsprop", {.momentum = 0.5, .centered = true}}),
    [](const ::testing::TestParamInfo<RoundTripCase>& info) {
      return fmt::format("{}_{}", info.param.optimizer, info.index);
    });

TEST(OptimizerState, NamesAreStatePlusParameterName) {
  const NamedParams params = make_params(kSpecs, 1);
  auto opt = optim::make_optimizer("adam", {one_group(params, 0.01)}, {});
  EXPECT_TRUE(opt->state_dict().empty()) << "no state before the first step";
  set_grads(params, 1, 0);
  opt->step();
  opt->step();
  const auto state = opt->state_dict();
  EXPECT_EQ(state.size(), 9u);
  ASSERT_TRUE(state.count("exp_avg.blocks.0.attn.qkv.weight"));
  ASSERT_TRUE(state.count("exp_avg_sq.head.weight"));
  const Tensor& step = state.at("step.blocks.0.attn.qkv.bias");
  EXPECT_EQ(step.dtype(), DType::i64);
  EXPECT_EQ(step.dim(), 0);
  EXPECT_EQ(step.item<int64_t>(), 2);
}

TEST(OptimizerState, SgdMomentumBufferNames) {
  const NamedParams params = make_params({{"0.weight", {3, 2}}}, 1);
  auto opt = optim::make_optimizer("sgd", {one_group(params, 0.1)}, {.momentum = 0.9});
  set_grads(params, 1, 0);
  opt->step();
  const auto state = opt->state_dict();
  EXPECT_TRUE(state.count("momentum_buffer.0.weight"));
  EXPECT_TRUE(state.count("step.0.weight"));
}

TEST(OptimizerState, ParametersWithoutGradientAreSkipped) {
  const NamedParams params = make_params({{"a", {4}}, {"b", {4}}}, 3);
  const Tensor b_before = params[1].second.detach().clone();
  auto opt = optim::make_optimizer("adamw", {one_group(params, 0.1, 0.5)}, {});
  Tensor a = params[0].second;
  a.set_grad(ones({4}));
  opt->step();
  EXPECT_TRUE(bitwise_equal(params[1].second, b_before)) << "b has no gradient: untouched";
  const auto state = opt->state_dict();
  EXPECT_TRUE(state.count("exp_avg.a"));
  EXPECT_FALSE(state.count("exp_avg.b"));
  EXPECT_FALSE(state.count("step.b"));
}

TEST(OptimizerState, ZeroGradDropsGradients) {
  const NamedParams params = make_params({{"a", {4}}}, 3);
  auto opt = optim::make_optimizer("sgd", {one_group(params, 0.1)}, {});
  set_grads(params, 3, 0);
  opt->zero_grad();
  EXPECT_FALSE(params[0].second.grad().defined());
}

TEST(OptimizerState, SetLrFactorScalesEveryGroupsBaseRate) {
  const NamedParams params = make_params({{"a", {4}}, {"b", {4}}}, 3);
  optim::ParamGroup g0 = one_group({params[0]}, 0.1), g1 = one_group({params[1]}, 0.02);
  auto opt = optim::make_optimizer("sgd", {g0, g1}, {});
  opt->set_lr_factor(0.5);
  EXPECT_DOUBLE_EQ(opt->groups()[0].lr, 0.05);
  EXPECT_DOUBLE_EQ(opt->groups()[1].lr, 0.01);
}

class BadStateLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    params = make_params({{"w", {3, 2}}, {"b", {2}}}, 9);
    opt = optim::make_optimizer("adam", {one_group(params, 0.01)}, {});
    set_grads(params, 9, 0);
    opt->step();
    for (const auto& [k, v] : opt->state_dict()) good[k] = v.clone();
  }
  // A failed load leaves the optimizer's state as it was.
  void expect_state_unchanged() {
    for (const auto& [k, v] : opt->state_dict()) EXPECT_TRUE(bitwise_equal(v, good.at(k))) << k;
    EXPECT_EQ(opt->state_dict().size(), good.size());
  }
  NamedParams params;
  std::unique_ptr<optim::Optimizer> opt;
  std::map<std::string, Tensor> good;
};

TEST_F(BadStateLoad, ListsEveryMismatch) {
  auto bad = good;
  bad["exp_avg.w"] = zeros({2, 3});  // wrong shape
  bad.erase("exp_avg_sq.b");         // missing companion
  bad["exp_avg.nope"] = zeros({2});  // no such parameter
  bad["momentum_buffer.w"] = zeros({3, 2});  // not adam's state
  bad["step.w"] = scalar_tensor(1.0, DType::f32);  // wrong dtype
  expect_error([&] { opt->load_state_dict(bad); },
               {"adam: optimizer state does not match", "'exp_avg.w' is [2, 3]", "expected [3, 2]",
                "missing entry 'exp_avg_sq.b'", "unexpected entry 'exp_avg.nope'",
                "unexpected entry 'momentum_buffer.w'", "'step.w' must be a positive int64"});
  expect_state_unchanged();
}

TEST_F(BadStateLoad, WrongDtypeIsAnError) {
  auto bad = good;
  bad["exp_avg.b"] = zeros({2}, DType::f64);
  expect_error([&] { opt->load_state_dict(bad); }, {"'exp_avg.b' is [2] float64, expected [2] float32"});
  expect_state_unchanged();
}

TEST_F(BadStateLoad, EmptyStateStartsAfresh) {
  opt->load_state_dict({});
  EXPECT_TRUE(opt->state_dict().empty());
}

}  // namespace
}  // namespace dlt::testing
