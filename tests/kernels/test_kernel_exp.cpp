// The exponentials inside the float kernels (vec::exp, vec::erfc and
// vec::tanh on whole vectors, fexp, ferfc and ftanh on tails), seen through
// softmax and GELU in whichever kernel set this CPU runs;
// tests/cpu_dispatch/each_set.sh repeats them in every other set.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// Rows [0, v...] of 48 values (three whole 16-lane vectors), v spread over
// [-103.9, 0]: softmax gives y_j = exp(v_j) y_0. Within 3 ulps where the
// result is a normal float; below FLT_MIN the whole vectors of AVX-512 give
// 0 (vec.h), the other sets and the tails the subnormal.
TEST(KernelExp, SoftmaxExponentialsWithinThreeUlpsOrBelowFltMin) {
  constexpr int64_t rows = 2000, len = 48;
  std::vector<float> x(rows * len);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 1; j < len; ++j)
      x[r * len + j] = float(-103.9 * double(r * (len - 1) + j - 1) / double(rows * (len - 1)));
  const Tensor y = softmax(from_vector(x, {rows, len}), -1);
  const std::vector<float> got = to_vector<float>(y);
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double y0 = got[r * len];
    for (int64_t j = 1; j < len; ++j) {
      const double want = std::exp(double(x[r * len + j])) * y0;
      const float w = float(want);
      const double spacing = std::max<double>(std::nextafter(std::fabs(w), INFINITY) - std::fabs(w),
                                              std::numeric_limits<float>::denorm_min());
      const double err = std::fabs(got[r * len + j] - want);
      if (want < std::numeric_limits<float>::min()) {
        EXPECT_LE(err, std::numeric_limits<float>::min()) << x[r * len + j];
        continue;
      }
      worst = std::max(worst, err / spacing);
    }
  }
  EXPECT_LE(worst, 3.0);
}

TEST(KernelExp, SoftmaxOfInfinitiesAndNaN) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  std::vector<float> row(40, -inf);
  row[3] = 0;
  row[37] = 0;  // in the tail
  std::vector<float> got = to_vector<float>(softmax(from_vector(row, {1, 40}), -1));
  for (int j = 0; j < 40; ++j) EXPECT_EQ(got[j], j == 3 || j == 37 ? 0.5f : 0.0f) << j;
  row[20] = std::nanf("");
  got = to_vector<float>(softmax(from_vector(row, {1, 40}), -1));
  for (int j = 0; j < 40; ++j) EXPECT_TRUE(std::isnan(got[j])) << j;
}

// GELU and its gradient over [-12, 8] (the left tail down to ~1e-33)
// against double: GELU keeps its relative accuracy (erfc's few 1e-6, and the
// exponential's argument at |x| = 12) in the tail; the gradient, which
// crosses 0 near x = -0.75, is held to 2e-5 relative plus 1e-6.
TEST(KernelExp, GeluAndItsGradientAgainstDouble) {
  constexpr int64_t n = 40003;  // whole vectors and a tail
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = float(-12.0 + 20.0 * double(i) / double(n - 1));
  const Tensor xt = from_vector(x, {n});
  const std::vector<float> y = to_vector<float>(gelu(xt));
  const std::vector<float> dy = to_vector<float>(ops::gelu_backward(ones({n}), xt, false));
  double worst = 0, worst_grad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i], cdf = 0.5 * std::erfc(-v / std::sqrt(2.0));
    const double want = v * cdf, want_grad = cdf + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
    worst = std::max(worst, std::fabs(y[i] - want) / std::max(std::fabs(want), 1e-37));
    const double grad_tol = 2e-5 * std::fabs(want_grad) + 1e-6;
    worst_grad = std::max(worst_grad, std::fabs(dy[i] - want_grad) / grad_tol);
  }
  EXPECT_LE(worst, 2e-5);
  EXPECT_LE(worst_grad, 1.0);
}

// The tanh form (vec::tanh on whole vectors, ftanh on tails) over [-12, 8]
// against the same formula in double: gelu, its backward and gelu_and_slope
// (training's one pass). Relative 3e-6 plus 1e-7 for the value (tanh near
// -1 cancels against 1 in the left tail), the gradient as above.
TEST(KernelExp, GeluTanhAndItsGradientAgainstDouble) {
  constexpr int64_t n = 40003;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = float(-12.0 + 20.0 * double(i) / double(n - 1));
  const Tensor xt = from_vector(x, {n});
  const std::vector<float> y = to_vector<float>(gelu(xt, true));
  const std::vector<float> dy = to_vector<float>(ops::gelu_backward(ones({n}), xt, true));
  const ops::GeluAndSlope both = ops::gelu_and_slope(xt, true);
  EXPECT_EQ(to_vector<float>(both.value), y);
  EXPECT_EQ(to_vector<float>(both.slope), dy);
  const double k = std::sqrt(2.0 / M_PI), a = 0.044715;
  double worst = 0, worst_grad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i], t = std::tanh(k * (v + a * v * v * v));
    const double want = 0.5 * v * (1 + t);
    const double want_grad = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * a * v * v);
    worst = std::max(worst, std::fabs(y[i] - want) / (3e-6 * std::fabs(want) + 1e-7));
    worst_grad = std::max(worst_grad, std::fabs(dy[i] - want_grad) / (2e-5 * std::fabs(want_grad) + 1e-6));
  }
  EXPECT_LE(worst, 1.0);
  EXPECT_LE(worst_grad, 1.0);
}

// Whole vectors and the scalar tail round differently: which one computes an
// element must not depend on how the elements are shared over threads.
TEST(KernelExp, GeluDoesNotDependOnTheThreadCount) {
  ThreadCountGuard guard;
  Generator gen(3);
  const Tensor x = randn({300007}, {}, &gen), g = randn({300007}, {}, &gen);
  set_num_threads(1);
  const std::vector<float> y1 = to_vector<float>(gelu(x));
  const std::vector<float> d1 = to_vector<float>(ops::gelu_backward(g, x, false));
  const std::vector<float> t1 = to_vector<float>(gelu(x, true));
  const std::vector<float> s1 = to_vector<float>(ops::gelu_and_slope(x, true).slope);
  set_num_threads(3);
  EXPECT_EQ(to_vector<float>(gelu(x)), y1);
  EXPECT_EQ(to_vector<float>(ops::gelu_backward(g, x, false)), d1);
  EXPECT_EQ(to_vector<float>(gelu(x, true)), t1);
  EXPECT_EQ(to_vector<float>(ops::gelu_and_slope(x, true).slope), s1);
}

}  // namespace
}  // namespace dlt::testing
