// gelu in training on the CPU runs gelu_and_slope, whose backward multiplies
// by the saved slope: the value and the gradient must be the bits of the
// plain op and of gelu_backward, in every kernel set (each_set.sh runs Gelu.*).
// linear_gelu there adds the bias in that pass and sums its gradient in the
// backward's: the same bits as linear then gelu, but for the bias's gradient,
// summed in another order.
#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"
#include "dlt/core/parallel.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

void expect_slope_path_matches_plain_ops(int64_t n, bool tanh_approx) {
  Generator gen(3);
  const Tensor x = uniform({n}, -7, 7, {}, &gen);
  const Tensor grad = randn({n}, {}, &gen);
  Tensor xg = x.detach().requires_grad_();
  const Tensor y = gelu(xg, tanh_approx);
  y.backward(grad);
  Tensor plain;
  {
    NoGradGuard no_grad;
    plain = gelu(x, tanh_approx);
  }
  const std::string what = fmt::format("n = {}, tanh = {}", n, tanh_approx);
  EXPECT_EQ(to_vector<float>(y.detach()), to_vector<float>(plain)) << what;
  EXPECT_EQ(to_vector<float>(xg.grad()), to_vector<float>(ops::gelu_backward(grad, x, tanh_approx)))
      << what;
}

TEST(Gelu, TrainingOnTheCpuGivesThePlainOpsBits) {
  for (bool tanh_approx : {false, true})
    for (int64_t n : {1, 37, 4096 + 21, 200003}) expect_slope_path_matches_plain_ops(n, tanh_approx);
}

TEST(Gelu, TrainingSavesTheSlopeInsteadOfTheInput) {
  Tensor x = randn({8}).requires_grad_();
  const auto [value, slope] = ops::gelu_and_slope(x, false);
  ASSERT_TRUE(value.requires_grad());
  EXPECT_FALSE(slope.requires_grad());  // an output without a gradient of its own
  value.backward(ones({8}));
  EXPECT_EQ(to_vector<float>(x.grad()), to_vector<float>(slope.detach()));
}

struct LinearGeluRun {
  Tensor y, dx, dw, db;
};

// linear_gelu (fused) or gelu(linear(...)) on x (rows, 24) to 37 features, backward with a fixed grad.
LinearGeluRun run_linear_gelu(int64_t rows, bool tanh_approx, bool fused) {
  Generator gen(5);
  Tensor x = randn({rows, 24}, {}, &gen).requires_grad_();
  Tensor w = (randn({37, 24}, {}, &gen) * 0.3).requires_grad_();
  Tensor b = randn({37}, {}, &gen).requires_grad_();
  const Tensor grad = randn({rows, 37}, {}, &gen);
  const Tensor y = fused ? linear_gelu(x, w, b, tanh_approx) : gelu(linear(x, w, b), tanh_approx);
  if (fused) {  // the bias reaches gelu_and_slope, not linear
    EXPECT_EQ(y.grad_fn()->name(), "GeluAndSlopeBackward");
    EXPECT_TRUE(y.grad_fn()->next_edges.size() == 2 && y.grad_fn()->next_edges[1].valid());
  }
  y.backward(grad);
  return {y.detach(), x.grad(), w.grad(), b.grad()};
}

TEST(Gelu, LinearGeluInTrainingGivesLinearThenGelusBits) {
  for (bool tanh_approx : {false, true})
    for (int64_t rows : {1, 31, 4096 + 7}) {
      const LinearGeluRun fused = run_linear_gelu(rows, tanh_approx, true);
      const LinearGeluRun plain = run_linear_gelu(rows, tanh_approx, false);
      const std::string what = fmt::format("rows = {}, tanh = {}", rows, tanh_approx);
      for (const auto& [a, b, name] : {std::tuple{fused.y, plain.y, "y"}, {fused.dx, plain.dx, "dx"},
                                       {fused.dw, plain.dw, "dw"}, {fused.db, plain.db, "db"}})
        EXPECT_EQ(compare_close(to_vector<double>(a), to_vector<double>(b), 1e-5, 1e-5), "") << what << ", " << name;
    }
}

TEST(Gelu, LinearGelusBiasGradientDoesNotDependOnTheThreadCount) {
  ThreadCountGuard restore;
  set_num_threads(1);
  const LinearGeluRun one = run_linear_gelu(4096 + 7, true, true);
  set_num_threads(2);
  const LinearGeluRun two = run_linear_gelu(4096 + 7, true, true);
  EXPECT_EQ(to_vector<float>(one.db), to_vector<float>(two.db));
}

TEST(Gelu, LinearGeluOutsideTrainingIsThePlainPath) {
  const Tensor x = randn({6, 24}), w = randn({37, 24}), b = randn({37});
  NoGradGuard no_grad;
  EXPECT_EQ(to_vector<float>(linear_gelu(x, w, b, true)), to_vector<float>(gelu(linear(x, w, b), true)));
}

TEST(Gelu, LinearGeluOfNoRowsOrNoFeatures) {
  for (const auto& [rows, out] : {std::pair<int64_t, int64_t>{0, 5}, {6, 0}}) {
    Tensor x = randn({rows, 4}).requires_grad_();
    Tensor w = randn({out, 4}).requires_grad_();
    Tensor b = randn({out}).requires_grad_();
    const Tensor y = linear_gelu(x, w, b);
    EXPECT_EQ(y.shape(), (Shape{rows, out}));
    y.sum().backward();
    EXPECT_EQ(b.grad().shape(), (Shape{out}));
    EXPECT_EQ(to_vector<float>(b.grad()), std::vector<float>(size_t(out), 0.0f));
  }
}

TEST(Gelu, ABadBiasIsNamedAsLinearNamesIt) {
  Tensor x = randn({6, 24}).requires_grad_();
  const Tensor w = randn({37, 24});
  expect_error([&] { linear_gelu(x, w, randn({36})); }, {"linear: bias of shape [36]"});
  expect_error([&] { ops::gelu_and_slope(x, randn({5}), false); },
               {"gelu_and_slope: a bias of shape [5] does not match", "input of shape [6, 24]"});
}

TEST(Gelu, BiasBackwardRejectsMismatchedInputs) {
  expect_error([&] { ops::gelu_bias_backward(randn({2, 4}), randn({8, 4})); },
               {"gelu_bias_backward", "[2, 4]", "[8, 4]"});
  expect_error([&] { ops::gelu_bias_backward(randn({}), randn({})); },
               {"gelu_bias_backward", "at least one dim"});
  expect_error([&] { ops::gelu_bias_backward(Tensor(), randn({3})); },
               {"gelu_bias_backward: undefined"});
}

}  // namespace
}  // namespace dlt::testing
