// Dropout has no torch parity (the random streams differ): its statistics,
// scaling, reproducibility and gradient are checked here.
#include <algorithm>

#include "dlt/core/philox.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

size_t count_zeros(const std::vector<float>& v) {
  return size_t(std::count(v.begin(), v.end(), 0.0f));
}

TEST(Dropout, FractionOfZerosIsNearP) {
  const int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.8}) {
    Generator gen(11);
    const std::vector<float> y = to_vector<float>(dropout(ones({n}), p, true, &gen));
    // Binomial standard deviation sqrt(p (1 - p) / n) <= 0.0012: 0.006 is 5 sigma.
    EXPECT_NEAR(double(count_zeros(y)) / double(n), p, 0.006) << "p = " << p;
  }
}

TEST(Dropout, KeptElementsAreScaledByOneOverKeepProbability) {
  Generator data_gen(3), gen(5);
  const Tensor x = uniform({1000}, 0.5, 2.0, {}, &data_gen);  // no zeros of its own
  const double p = 0.3;
  const std::vector<float> xs = to_vector<float>(x);
  const std::vector<float> ys = to_vector<float>(dropout(x, p, true, &gen));
  const float scale = float(1.0 / (1.0 - p));
  size_t kept = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (ys[i] == 0) continue;
    ++kept;
    EXPECT_EQ(ys[i], xs[i] * scale) << "element " << i;
  }
  EXPECT_GT(kept, 0u);
}

TEST(Dropout, SameSeedGivesSameMaskAndTheStreamAdvances) {
  const Tensor x = ones({4096});
  Generator a(42), b(42), c(43);
  const std::vector<float> first = to_vector<float>(dropout(x, 0.5, true, &a));
  EXPECT_EQ(first, to_vector<float>(dropout(x, 0.5, true, &b)));
  EXPECT_NE(first, to_vector<float>(dropout(x, 0.5, true, &c)));
  // The next call on the same generator draws fresh counters.
  EXPECT_NE(first, to_vector<float>(dropout(x, 0.5, true, &a)));
  EXPECT_EQ(a.offset(), 2 * philox_counters(4096));
}

// The layout every backend must follow (so a GPU run reproduces the CPU
// mask): element i is kept when the double from philox_pair(seed, offset, i)
// is below 1 - p.
TEST(Dropout, MaskFollowsThePhiloxStreamLayout) {
  const uint64_t seed = 77;
  const double p = 0.3;
  Generator gen(seed);
  gen.take_offset(5);  // start mid-stream, at an arbitrary offset
  const int64_t n = 1001;  // odd: the last element uses half a block
  const std::vector<float> y = to_vector<float>(dropout(ones({n}), p, true, &gen));
  for (int64_t i = 0; i < n; ++i) {
    const auto w = philox_pair(seed, 5, uint64_t(i));
    const bool keep = uint_to_unit_double(w[0], w[1]) < 1 - p;
    EXPECT_EQ(y[size_t(i)] != 0, keep) << "element " << i;
  }
}

TEST(Dropout, MaskDoesNotDependOnTheThreadCount) {
  ThreadCountGuard restore;
  // Large enough for parallel_for to split the work over threads.
  const Tensor x = ones({300001});
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Generator gen(7);
    results.push_back(to_vector<float>(dropout(x, 0.25, true, &gen)));
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST(Dropout, GradientIsMaskTimesScaleExactly) {
  for (DType dtype : {DType::f32, DType::f64}) {
    Generator data_gen(9), gen(10);
    Tensor x = uniform({64, 9}, 0.5, 2.0, dtype, &data_gen).requires_grad_(true);
    const double p = 0.35;
    const Tensor y = dropout(x, p, true, &gen);
    y.backward(ones_like(y));
    const std::vector<double> ys = to_vector<double>(y), gs = to_vector<double>(x.grad());
    const double scale = dtype == DType::f32 ? double(float(1.0 / (1.0 - p))) : 1.0 / (1.0 - p);
    for (size_t i = 0; i < ys.size(); ++i)
      EXPECT_EQ(gs[i], ys[i] != 0 ? scale : 0.0) << dtype_name(dtype) << " element " << i;
  }
}

TEST(Dropout, EvalAndZeroProbabilityReturnTheInput) {
  const Tensor x = randn({3, 4});
  EXPECT_TRUE(dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true).is_same(x));
}

TEST(Dropout, ProbabilityOneGivesZerosAndZeroGradient) {
  Tensor x = randn({5, 3}).requires_grad_(true);
  const Tensor y = dropout(x, 1.0, true);
  y.backward(ones_like(y));
  for (double v : to_vector<double>(y)) EXPECT_EQ(v, 0.0);
  for (double g : to_vector<double>(x.grad())) EXPECT_EQ(g, 0.0);  // not nan
}

TEST(Dropout, HalfPrecisionKeepsTheSameMask) {
  const Tensor x = ones({1000});
  Generator a(21), b(21);
  const std::vector<float> f32 = to_vector<float>(dropout(x, 0.5, true, &a));
  const std::vector<float> bf16 = to_vector<float>(dropout(x.to(DType::bf16), 0.5, true, &b));
  EXPECT_EQ(f32, bf16);  // 1 * 2 is exact in bfloat16
}

TEST(Dropout, ProbabilityOutsideUnitIntervalIsAnError) {
  const Tensor x = ones({3});
  expect_error([&] { dropout(x, 1.5, true); }, {"dropout", "between 0 and 1", "1.5"});
  expect_error([&] { dropout(x, -0.1, true); }, {"dropout", "-0.1"});
  expect_error([&] { dropout(x, -0.1, false); }, {"dropout"});
}

}  // namespace
}  // namespace dlt::testing
