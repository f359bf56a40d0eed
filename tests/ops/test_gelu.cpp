// gelu in training on the CPU runs gelu_and_slope, whose backward multiplies
// by the saved slope: the value and the gradient must be the bits of the
// plain op and of gelu_backward, in every kernel set (each_set.sh runs Gelu.*).
#include "dlt/core/grad_mode.h"
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

}  // namespace
}  // namespace dlt::testing
