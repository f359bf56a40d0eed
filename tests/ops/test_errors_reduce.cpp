// Reductions: bad dims and dtypes raise dlt::Error naming them; edge cases
// (empty, 0-dim, nan, ties) follow torch; sum_to shapes; results do not
// depend on the thread count.
#include <cmath>
#include <cstring>

#include "dlt/core/parallel.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::expect_error;
using testing::to_vector;

Tensor iota(const Shape& shape, DType dtype = DType::f32) {
  return arange(numel_of(shape), dtype).view(shape);
}

TEST(ReduceErrors, DimOutOfRange) {
  const Tensor x = zeros({2, 3});
  expect_error([&] { sum(x, {2}); }, {"sum", "got 2", "2 dimension(s)"});
  expect_error([&] { mean(x, {-3}); }, {"mean", "got -3"});
  expect_error([&] { amax(x, {5}); }, {"amax", "got 5"});
  expect_error([&] { max(x, 2); }, {"max", "got 2"});
  expect_error([&] { argmin(x, -3); }, {"argmin", "got -3"});
  expect_error([&] { sum(scalar_tensor(1.0, DType::f32), {1}); }, {"sum", "got 1"});
}

TEST(ReduceErrors, RepeatedDims) {
  const Tensor x = zeros({2, 3, 4});
  expect_error([&] { sum(x, {0, -3}); }, {"sum", "dim 0 appears multiple times", "[0, -3]"});
  expect_error([&] { var(x, {1, 1}); }, {"var", "dim 1 appears multiple times"});
  expect_error([&] { logsumexp(x, {2, -1}); }, {"logsumexp", "dim 2"});
}

TEST(ReduceErrors, FloatingOnlyOps) {
  const Tensor ints = iota({2, 3}, DType::i64);
  expect_error([&] { mean(ints); }, {"mean", "floating point", "int64"});
  expect_error([&] { var(ints); }, {"var", "floating point", "int64"});
  expect_error([&] { dlt::std(ints); }, {"std", "int64"});
  expect_error([&] { norm(ints); }, {"norm", "int64"});
  expect_error([&] { argmax(zeros({3}, DType::boolean), 0); }, {"argmax", "bool"});
  expect_error([&] { var(zeros({3}), {}, -1); }, {"var", "correction", "-1"});
}

TEST(ReduceErrors, ExtremaOfEmptyTensors) {
  const Tensor empty_rows = zeros({0, 3});
  expect_error([&] { amax(empty_rows); }, {"amax", "empty tensor", "[0, 3]"});
  expect_error([&] { amin(empty_rows, {0}); }, {"amin", "reduction dim 0", "non-zero size"});
  expect_error([&] { max(zeros({2, 0}), 1); }, {"max", "reduction dim 1", "[2, 0]"});
  expect_error([&] { argmax(empty_rows, 0); }, {"argmax", "reduction dim 0"});
  // Reducing a non-empty dim of an empty tensor is fine: the result is empty.
  EXPECT_EQ(amax(empty_rows, {1}).shape(), (Shape{0}));
  EXPECT_EQ(argmin(empty_rows, 1).shape(), (Shape{0}));
}

TEST(ReduceEdges, EmptyReductionsGiveTheIdentity) {
  const Tensor x = zeros({0, 3});
  EXPECT_EQ(to_vector<float>(sum(x, {0})), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(sum(x).item<float>(), 0);
  EXPECT_TRUE(std::isnan(mean(x).item<float>()));
  EXPECT_TRUE(std::isnan(var(x, {0}).select(0, 0).item<float>()));
  EXPECT_EQ(logsumexp(x, {0}).select(0, 1).item<float>(), -INFINITY);
  EXPECT_EQ(sum(zeros({0}, DType::i64)).dtype(), DType::i64);
}

TEST(ReduceEdges, VarianceDivisor) {
  // N - correction <= 0: 0/0 gives nan, c/0 gives inf (as torch).
  EXPECT_TRUE(std::isnan(var(ones({1})).item<float>()));
  EXPECT_EQ(var(from_vector<float>({1, 2}, {2}), {}, 3).item<float>(), INFINITY);
  EXPECT_FLOAT_EQ(var(from_vector<float>({1, 2, 3, 4}, {4}), {}, 0).item<float>(), 1.25f);
}

TEST(ReduceEdges, ZeroDimTensors) {
  const Tensor s = scalar_tensor(2.5, DType::f32);
  EXPECT_EQ(sum(s).item<float>(), 2.5f);
  EXPECT_EQ(sum(s, {0}, true).shape(), Shape{});
  EXPECT_EQ(sum(s, {-1}).item<float>(), 2.5f);
  EXPECT_EQ(amax(s).item<float>(), 2.5f);
  const ValuesIndices m = max(s, 0);
  EXPECT_EQ(m.values.item<float>(), 2.5f);
  EXPECT_EQ(m.indices.item<int64_t>(), 0);
  EXPECT_EQ(m.indices.shape(), Shape{});
}

TEST(ReduceEdges, DtypesFollowTorch) {
  EXPECT_EQ(sum(iota({4}, DType::i32)).dtype(), DType::i64);
  EXPECT_EQ(sum(iota({4}, DType::i32)).item<int64_t>(), 6);
  const Tensor mask = gt(iota({5}), scalar_tensor(1.5, DType::f32));
  EXPECT_EQ(sum(mask).dtype(), DType::i64);
  EXPECT_EQ(sum(mask).item<int64_t>(), 3);
  EXPECT_EQ(sum(ones({3}, DType::f16)).dtype(), DType::f16);
  EXPECT_EQ(amax(iota({4}, DType::i32)).dtype(), DType::i32);
  EXPECT_EQ(logsumexp(iota({3}, DType::i64), {0}).dtype(), DType::f32);
  EXPECT_EQ(argmax(iota({3}), 0).dtype(), DType::i64);
}

TEST(ReduceEdges, NanPropagates) {
  const Tensor x = from_vector<float>({1, NAN, 3, NAN, 0}, {5});
  EXPECT_TRUE(std::isnan(amax(x).item<float>()));
  EXPECT_TRUE(std::isnan(amin(x).item<float>()));
  const ValuesIndices m = max(x, 0);
  EXPECT_TRUE(std::isnan(m.values.item<float>()));
  EXPECT_EQ(m.indices.item<int64_t>(), 1);  // the first nan
  EXPECT_EQ(argmin(x, 0).item<int64_t>(), 1);
  // Columns too (the vectorised path): a nan in row 2 of column 1.
  Tensor cols = zeros({3, 20});
  cols.select(0, 2).select(0, 1).fill_(NAN);
  const ValuesIndices c = max(cols, 0);
  EXPECT_TRUE(std::isnan(c.values.select(0, 1).item<float>()));
  EXPECT_EQ(c.indices.select(0, 1).item<int64_t>(), 2);
  EXPECT_EQ(c.indices.select(0, 0).item<int64_t>(), 0);  // ties: the first index
}

TEST(ReduceEdges, LongRowsReportWhereTheExtremeIs) {
  // Rows long enough for the lane-parallel scan; the extreme sits in lane 0
  // past the first element, then ties follow in other lanes.
  std::vector<float> v(100, 1.0f);
  v[16] = 5.0f;
  v[21] = 5.0f;
  v[40] = -3.0f;
  v[48] = -3.0f;
  const Tensor x = from_vector<float>(v, {1, 100});
  EXPECT_EQ(argmax(x, 1).item<int64_t>(), 16);
  EXPECT_EQ(argmin(x, 1).item<int64_t>(), 40);
  EXPECT_EQ(max(x, 1).indices.item<int64_t>(), 16);
}

TEST(ReduceEdges, LogsumexpOfInfinities) {
  EXPECT_EQ(logsumexp(full({3}, -INFINITY), {0}).item<float>(), -INFINITY);
  EXPECT_EQ(logsumexp(from_vector<float>({INFINITY, 1}, {2}), {0}).item<float>(), INFINITY);
}

TEST(ReduceGrad, AmaxSplitsTiesMaxPicksTheIndex) {
  Tensor x = from_vector<float>({1, 3, 3}, {3}).requires_grad_();
  amax(x).backward();
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{0, 0.5f, 0.5f}));
  Tensor y = from_vector<float>({1, 3, 3}, {3}).requires_grad_();
  max(y, 0).values.backward();
  EXPECT_EQ(to_vector<float>(y.grad()), (std::vector<float>{0, 1, 0}));
  EXPECT_FALSE(max(y, 0).indices.requires_grad());
}

TEST(ReduceGrad, NormOfZerosHasZeroGradient) {
  for (double p : {2.0, 3.0}) {
    Tensor x = zeros({2, 3}).requires_grad_();
    const Tensor n = norm(x, p, {1});
    EXPECT_EQ(to_vector<float>(n), (std::vector<float>{0, 0}));
    sum(n).backward();
    EXPECT_EQ(to_vector<float>(x.grad()), std::vector<float>(6, 0.0f)) << "p = " << p;
  }
}

TEST(ReduceEdges, BoolExtrema) {
  const Tensor b = gt(from_vector<float>({0, 2, 0, 0}, {2, 2}), scalar_tensor(1.0, DType::f32));
  EXPECT_EQ(to_vector<int64_t>(amax(b, {1})), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(amax(b).dtype(), DType::boolean);
  const ValuesIndices m = max(b, 1);
  EXPECT_EQ(to_vector<int64_t>(m.values), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(to_vector<int64_t>(m.indices), (std::vector<int64_t>{1, 0}));
}

TEST(SumTo, ReducesBroadcastDims) {
  const Tensor g = iota({2, 3, 4});
  EXPECT_TRUE(sum_to(g, {2, 3, 4}).is_same(g));  // nothing broadcast: no work
  EXPECT_EQ(sum_to(g, {3, 1}).shape(), (Shape{3, 1}));
  // Row j of the (3, 1) result sums g[i, j, k] = 12 i + 4 j + k over i, k: 60 + 32 j.
  EXPECT_EQ(to_vector<float>(sum_to(g, {3, 1})), (std::vector<float>{60, 92, 124}));
  EXPECT_EQ(to_vector<float>(sum_to(g, {4})), (std::vector<float>{60, 66, 72, 78}));
  EXPECT_EQ(sum_to(g, {1, 1, 1}).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(sum_to(g, {}).shape(), Shape{});
  EXPECT_EQ(sum_to(g, {}).item<float>(), 276);
  EXPECT_EQ(sum_to(g, {2, 1, 4}).shape(), (Shape{2, 1, 4}));
}

TEST(SumTo, RejectsShapesThatDoNotBroadcast) {
  const Tensor g = zeros({2, 3});
  expect_error([&] { sum_to(g, {4}); }, {"sum_to", "[2, 3]", "[4]"});
  expect_error([&] { sum_to(g, {1, 2, 3}); }, {"sum_to", "[1, 2, 3]"});
}

// One block order for any thread count: bitwise identical sums.
TEST(ReduceDeterminism, BitwiseIdenticalAcrossThreadCounts) {
  testing::ThreadCountGuard guard;
  Generator gen(7);
  const Tensor x = randn({1 << 20}, DType::f32, &gen);
  const Tensor wide = randn({3000, 300}, DType::f32, &gen);  // columns with several blocks
  auto results = [&] {
    return std::vector<Tensor>{sum(x), mean(x), var(x), logsumexp(x, {0}), sum(wide, {0}),
                               sum(wide, {1}), norm(wide)};
  };
  set_num_threads(1);
  const std::vector<Tensor> one = results();
  set_num_threads(2);
  const std::vector<Tensor> two = results();
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one[i].numel(), two[i].numel());
    EXPECT_EQ(std::memcmp(one[i].raw_data(), two[i].raw_data(), size_t(one[i].numel()) * 4), 0)
        << "result " << i << " differs between 1 and 2 threads";
  }
}

// Float accumulation stays close to a double reference on a large sum.
TEST(ReduceAccuracy, LargeFloatSum) {
  Generator gen(11);
  const Tensor x = uniform({1 << 22}, 0, 1, DType::f32, &gen);
  const double reference = sum(x.to(DType::f64)).item<double>();
  EXPECT_NEAR(sum(x).item<float>(), reference, 1e-6 * reference);
  const Tensor cols = x.view({1 << 16, 64});
  const std::vector<double> ref_cols = to_vector<double>(sum(cols.to(DType::f64), {0}));
  const std::vector<double> got_cols = to_vector<double>(sum(cols, {0}));
  for (size_t i = 0; i < got_cols.size(); ++i)
    EXPECT_NEAR(got_cols[i], ref_cols[i], 1e-6 * ref_cols[i]) << "column " << i;
}

}  // namespace
}  // namespace dlt
