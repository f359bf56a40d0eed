// Bad arguments to conv2d and the pooling ops throw dlt::Error with messages
// that name the offending shapes and values.
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using A2 = std::array<int64_t, 2>;

TEST(ConvErrors, InputRank) {
  const Tensor w = zeros({4, 3, 3, 3});
  expect_error([&] { conv2d(zeros({3, 5}), w); }, {"conv2d", "[3, 5]"});
  expect_error([&] { conv2d(zeros({1, 2, 3, 5, 5}), w); }, {"[1, 2, 3, 5, 5]"});
  expect_error([&] { conv2d(zeros({2, 3, 5, 5}), zeros({4, 3, 3})); }, {"weight", "[4, 3, 3]"});
}

TEST(ConvErrors, ChannelMismatch) {
  expect_error([&] { conv2d(zeros({2, 5, 5, 5}), zeros({4, 3, 3, 3})); },
               {"[4, 3, 3, 3]", "[2, 5, 5, 5]", "to have 3 channels, but got 5"});
  // groups multiply the weight's input channels
  expect_error(
      [&] { conv2d(zeros({2, 3, 5, 5}), zeros({4, 3, 3, 3}), {}, {1, 1}, {0, 0}, {1, 1}, 2); },
      {"groups=2", "to have 6 channels, but got 3"});
}

TEST(ConvErrors, OutputChannelsNotDivisibleByGroups) {
  expect_error(
      [&] { conv2d(zeros({2, 4, 5, 5}), zeros({3, 2, 3, 3}), {}, {1, 1}, {0, 0}, {1, 1}, 2); },
      {"divisible by 2", "[3, 2, 3, 3]"});
}

TEST(ConvErrors, KernelLargerThanPaddedInput) {
  expect_error([&] { conv2d(zeros({2, 3, 2, 2}), zeros({4, 3, 3, 3})); },
               {"calculated output size", "too small", "[2, 3, 2, 2]", "[4, 3, 3, 3]"});
  // dilation widens the 3 x 3 kernel to 5 x 5
  expect_error(
      [&] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 3, 3}), {}, {1, 1}, {0, 0}, {2, 2}); },
      {"too small", "(5 x 5)"});
}

TEST(ConvErrors, BadStridePaddingDilationGroups) {
  const Tensor x = zeros({1, 2, 5, 5}), w = zeros({2, 2, 3, 3});
  expect_error([&] { conv2d(x, w, {}, {1, 1}, {-1, 0}); }, {"negative padding", "[-1, 0]"});
  expect_error([&] { conv2d(x, w, {}, {0, 1}); }, {"stride", "[0, 1]"});
  expect_error([&] { conv2d(x, w, {}, {1, 1}, {0, 0}, {1, 0}); }, {"dilation", "[1, 0]"});
  expect_error([&] { conv2d(x, w, {}, {1, 1}, {0, 0}, {1, 1}, 0); }, {"groups (0)"});
}

TEST(ConvErrors, BiasAndDtypes) {
  const Tensor x = zeros({1, 2, 5, 5}), w = zeros({4, 2, 3, 3});
  expect_error([&] { conv2d(x, w, zeros({3})); }, {"bias", "[4]", "[3]"});
  expect_error([&] { conv2d(x, zeros({4, 2, 3, 3}, DType::f64)); }, {"float32", "float64"});
  expect_error(
      [&] { conv2d(zeros({1, 2, 5, 5}, DType::i64), zeros({4, 2, 3, 3}, DType::i64)); },
      {"int64"});
}

TEST(PoolErrors, InputRankAndEmptyDims) {
  expect_error([&] { max_pool2d(zeros({5, 5}), {2, 2}); }, {"max_pool2d", "[5, 5]"});
  expect_error([&] { avg_pool2d(zeros({2, 0, 4, 4}), {2, 2}); }, {"avg_pool2d", "[2, 0, 4, 4]"});
  expect_error([&] { adaptive_avg_pool2d(zeros({1, 2, 3, 4, 5}), {2, 2}); },
               {"adaptive_avg_pool2d", "[1, 2, 3, 4, 5]"});
  expect_error([&] { max_pool2d(zeros({1, 1, 4, 4}, DType::i64), {2, 2}); }, {"int64"});
}

TEST(PoolErrors, PaddingAboveHalfTheKernel) {
  expect_error([&] { max_pool2d(zeros({1, 1, 4, 4}), {3, 3}, std::nullopt, {2, 2}); },
               {"half of kernel size", "[2, 2]", "[3, 3]"});
  expect_error([&] { avg_pool2d(zeros({1, 1, 4, 4}), {2, 4}, std::nullopt, {2, 1}); },
               {"half of kernel size"});
}

TEST(PoolErrors, OutputTooSmall) {
  expect_error([&] { max_pool2d(zeros({1, 1, 2, 2}), {3, 3}); },
               {"too small", "[1, 1, 2, 2]", "(0 x 0)"});
  expect_error([&] { max_pool2d(zeros({1, 1, 4, 4}), {2, 2}, A2{1, 1}, {0, 0}, {4, 4}); },
               {"too small"});
}

TEST(PoolErrors, BadKernelStrideDilationOutputSize) {
  const Tensor x = zeros({1, 1, 4, 4});
  expect_error([&] { max_pool2d(x, {0, 2}); }, {"kernel size", "[0, 2]"});
  expect_error([&] { avg_pool2d(x, {2, 2}, A2{2, 0}); }, {"stride", "[2, 0]"});
  expect_error([&] { max_pool2d(x, {2, 2}, std::nullopt, {0, 0}, {0, 1}); },
               {"dilation", "[0, 1]"});
  expect_error([&] { adaptive_avg_pool2d(x, {-1, 2}); }, {"output size", "[-1, 2]"});
}

}  // namespace
}  // namespace dlt::testing
