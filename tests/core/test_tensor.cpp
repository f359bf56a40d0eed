// Tensor metadata, views sharing storage, in-place ops and version counters,
// factories, printing.
#include <gtest/gtest.h>

#include <sstream>

#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::expect_error;
using testing::to_vector;

Tensor iota(const Shape& shape) { return arange(numel_of(shape), DType::f32).view(shape); }

TEST(Tensor, ContiguousMetadata) {
  const Tensor t = zeros({2, 3, 4});
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.device(), Device::cpu());
  expect_error([&] { t.size(3); }, {"dim out of range", "got 3"});
}

TEST(Tensor, ViewsShareStorage) {
  Tensor base = iota({3, 4});
  Tensor v = base.view({4, 3});
  Tensor tr = base.t();
  Tensor row = base.select(0, 1);
  EXPECT_EQ(v.storage(), base.storage());
  EXPECT_EQ(tr.storage(), base.storage());
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(to_vector<float>(row), (std::vector<float>{4, 5, 6, 7}));
  row.fill_(-1);
  EXPECT_EQ(to_vector<float>(base.select(0, 1)), (std::vector<float>{-1, -1, -1, -1}));
  EXPECT_EQ(to_vector<float>(tr.select(1, 1)), (std::vector<float>{-1, -1, -1, -1}));
}

TEST(Tensor, PermuteTransposeContiguous) {
  const Tensor x = iota({2, 3});
  const Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(to_vector<float>(t), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  const Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  // Empty tensors are contiguous whatever their strides, as in torch.
  EXPECT_TRUE(randn({5, 0}).is_contiguous());
  EXPECT_TRUE(zeros({2, 0, 4}).transpose(0, 2).is_contiguous());
  EXPECT_NE(c.storage(), x.storage());
  EXPECT_EQ(to_vector<float>(iota({2, 3, 4}).permute({2, 0, 1}).select(0, 1)),
            (std::vector<float>{1, 5, 9, 13, 17, 21}));
  expect_error([&] { x.permute({0, 0}); }, {"repeated"});
  expect_error([&] { x.permute({0}); }, {"permute"});
}

TEST(Tensor, SliceNarrowWithSteps) {
  const Tensor x = iota({10});
  EXPECT_EQ(to_vector<float>(x.slice(0, 1, 8, 3)), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(to_vector<float>(x.slice(0, -3, std::nullopt)), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(to_vector<float>(x.narrow(0, 2, 2)), (std::vector<float>{2, 3}));
  EXPECT_EQ(x.slice(0, 20, 30).numel(), 0);
  expect_error([&] { x.narrow(0, 8, 5); }, {"exceeds"});
  expect_error([&] { x.select(0, 10); }, {"index 10 is out of bounds", "size 10"});
  expect_error([&] { x.slice(0, 0, 5, 0); }, {"step must be positive"});
}

TEST(Tensor, ReshapeViewSqueezeUnsqueezeFlatten) {
  const Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.view({-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(x.view({6, -1}).storage(), x.storage());
  expect_error([&] { x.view({5, -1}); }, {"invalid for input of size 24"});
  const Tensor t = x.transpose(1, 2);
  expect_error([&] { t.view({24}); }, {"view size", "reshape"});
  const Tensor r = t.reshape({24});
  EXPECT_EQ(r.shape(), (Shape{24}));
  EXPECT_EQ(to_vector<float>(r)[1], 4.0f);
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(0).squeeze(0).shape(), x.shape());
  EXPECT_EQ(zeros({1, 3, 1}).squeeze().shape(), (Shape{3}));
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(x.flatten().shape(), (Shape{24}));
}

TEST(Tensor, ExpandBroadcastsWithZeroStride) {
  const Tensor x = iota({3, 1});
  const Tensor e = x.expand({2, 3, 4});
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_EQ(to_vector<float>(e.select(0, 1).select(0, 2)), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_EQ(x.expand({-1, 5}).shape(), (Shape{3, 5}));
  expect_error([&] { x.expand({4, 4}); }, {"expand", "[3, 1]"});
}

TEST(Tensor, BroadcastingBinaryOps) {
  const Tensor a = iota({2, 1, 3});
  const Tensor b = iota({4, 1});
  const Tensor c = a + b;
  EXPECT_EQ(c.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(to_vector<float>(c.select(0, 1).select(0, 3)), (std::vector<float>{6, 7, 8}));
  expect_error([&] { iota({2, 3}) + iota({4}); }, {"[2, 3]", "[4]", "cannot be broadcast"});
}

TEST(Tensor, InPlaceOpsBumpTheVersion) {
  Tensor x = zeros({3});
  const uint32_t v0 = x.version();
  x.add_(ones({3}));
  x.mul_(full({1}, 3.0));
  EXPECT_EQ(x.version(), v0 + 2);
  EXPECT_EQ(to_vector<float>(x), (std::vector<float>{3, 3, 3}));
  x.add_(ones({3}), 0.5);
  EXPECT_EQ(to_vector<float>(x), (std::vector<float>{3.5, 3.5, 3.5}));
  x.zero_();
  EXPECT_EQ(to_vector<float>(x), (std::vector<float>{0, 0, 0}));
  x.copy_(from_vector<int64_t>({1, 2, 3}, {3}));
  EXPECT_EQ(to_vector<float>(x), (std::vector<float>{1, 2, 3}));
  Tensor i = zeros({3}, DType::i64);
  expect_error([&] { i.add_(ones({3})); }, {"can't be cast", "int64"});
  expect_error([&] { x.add_(ones({2, 3})); }, {"does not broadcast"});
}

TEST(Tensor, Factories) {
  EXPECT_EQ(to_vector<double>(arange(5)), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5).dtype(), DType::i64);
  EXPECT_EQ(to_vector<double>(arange(1.0, 2.0, 0.25, DType::f64)), (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(to_vector<float>(linspace(0, 1, 5)), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(to_vector<float>(eye(3)), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(to_vector<float>(full({2}, 7.5)), (std::vector<float>{7.5, 7.5}));
  EXPECT_EQ(full({2}, 7.5, DType::f16).dtype(), DType::f16);
  EXPECT_EQ(ones({1, 1}).item<float>(), 1.0f);
}

TEST(Tensor, ItemNeedsOneElement) {
  EXPECT_EQ(scalar_tensor(2.5, DType::f64).item<double>(), 2.5);
  EXPECT_EQ(scalar_tensor(7, DType::i64).item<int64_t>(), 7);
  expect_error([] { zeros({2}).item<float>(); }, {"2 elements"});
}

TEST(Tensor, PrintsLikeTorch) {
  std::ostringstream a, b, c, d;
  a << from_vector<float>({1, 2.5, -3, 4}, {2, 2});
  EXPECT_EQ(a.str(), "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])");
  b << arange(3);
  EXPECT_EQ(b.str(), "tensor([0, 1, 2])");
  c << from_vector<double>({1, 2}, {2});
  EXPECT_EQ(c.str(), "tensor([1., 2.], dtype=float64)");
  d << gt(arange(3), scalar_tensor(0, DType::i64));
  EXPECT_EQ(d.str(), "tensor([False,  True,  True])");
  std::ostringstream big;
  big << zeros({2000});
  EXPECT_NE(big.str().find("..."), std::string::npos);
}

}  // namespace
}  // namespace dlt

namespace dlt {
namespace {

TEST(TensorInPlace, OverlappingWritesAreRefused) {
  Tensor x = arange(6, DType::f32);
  testing::expect_error([&] { x.slice(0, 1, std::nullopt).copy_(x.slice(0, 0, -1)); },
                        {"refer to a single memory location"});
  Tensor m = arange(4, DType::f32).view({2, 2});
  testing::expect_error([&] { m.copy_(m.t()); }, {"refer to a single memory location"});
  Tensor e = zeros({1}).expand({4});
  testing::expect_error([&] { e.add_(ones({4})); }, {"expanded tensor"});
  x.add_(x);  // the same elements read then written: fine
  EXPECT_EQ(testing::to_vector<float>(x), (std::vector<float>{0, 2, 4, 6, 8, 10}));
}

TEST(TensorSemantics, ReluKeepsNanAndClampFollowsTorch) {
  const Tensor r = relu(from_vector<float>({NAN, -1, 2}, {3}));
  const auto v = testing::to_vector<float>(r);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 0);
  EXPECT_EQ(testing::to_vector<float>(clamp(zeros({1}), 2.0, 1.0)), (std::vector<float>{1}));
}

}  // namespace
}  // namespace dlt
