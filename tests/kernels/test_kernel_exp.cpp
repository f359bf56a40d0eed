// The exponentials inside the float kernels (vec::exp on whole vectors,
// fexp on row tails), seen through softmax in whichever kernel set this CPU
// runs; tests/cpu_dispatch/each_set.sh repeats them in every other set.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// Rows [0, v...] of 48 values (three whole 16-lane vectors), v spread over
// [-103.9, 0]: softmax gives y_j = exp(v_j) y_0, down into the subnormals.
TEST(KernelExp, SoftmaxExponentialsWithinThreeUlpsDownToSubnormals) {
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
      worst = std::max(worst, std::fabs(got[r * len + j] - want) / spacing);
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

}  // namespace
}  // namespace dlt::testing
