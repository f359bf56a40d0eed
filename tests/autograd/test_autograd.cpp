// The backward engine: accumulation, retain_graph, no_grad, detach, hooks,
// in-place rebasing and the version-counter check.
#include <gtest/gtest.h>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::expect_error;
using testing::to_vector;

Tensor leaf(std::vector<float> v) {
  const int64_t n = int64_t(v.size());
  return from_vector(v, {n}).requires_grad_();
}

TEST(Autograd, ChainRuleAndAccumulation) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * x + x * 3;  // dy/dx = 2x + 3
  y.backward(ones({3}));
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{5, 7, 9}));
  // A second graph adds into .grad.
  (x * 2).backward(ones({3}));
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{7, 9, 11}));
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor x = leaf({2});
  Tensor a = exp(x);
  Tensor y = a * a + a;  // d/dx = (2a + 1) a
  y.backward(ones({1}));
  const float av = std::exp(2.0f);
  EXPECT_NEAR(to_vector<float>(x.grad())[0], (2 * av + 1) * av, 1e-3);
}

TEST(Autograd, ScalarRootNeedsNoGradient) {
  Tensor x = leaf({4});
  Tensor y = (x * x).view({});
  y.backward();
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{8}));
  Tensor z = x * x * 1;
  Tensor two = cat({z, z});
  expect_error([&] { two.backward(); }, {"only for scalar outputs", "[2]"});
}

TEST(Autograd, GradFnAndLeaves) {
  Tensor x = leaf({1});
  Tensor c = zeros({1});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  Tensor y = x * c;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_FALSE((c * c).requires_grad());
  expect_error([&] { (c * c).backward(); }, {"does not require grad"});
  expect_error([] { zeros({2}, DType::i64).requires_grad_(); }, {"floating point"});
}

TEST(Autograd, NoGradAndDetach) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard guard;
    EXPECT_FALSE((x * 2).requires_grad());
  }
  const Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage(), x.storage());
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = leaf({3});
  Tensor y = x * x;
  y.backward(ones({1}), /*retain_graph=*/true);
  y.backward(ones({1}));
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{12}));
  Tensor z = x * x;
  z.backward(ones({1}));
  expect_error([&] { z.backward(ones({1})); }, {"backward through the graph a second time", "retain_graph"});
}

TEST(Autograd, HooksSeeAndReplaceGradients) {
  Tensor x = leaf({1, 1});
  std::vector<float> seen;
  x.register_hook([&](const Tensor& g) -> std::optional<Tensor> {
    seen = to_vector<float>(g);
    return g * 10;
  });
  Tensor mid = x * 2;
  mid.register_hook([](const Tensor& g) -> std::optional<Tensor> { return g + 1; });
  int post_calls = 0;
  x.register_post_accumulate_hook([&](const Tensor& t) { post_calls += t.grad().defined(); });
  mid.backward(ones({2}));
  EXPECT_EQ(seen, (std::vector<float>{4, 4}));  // (1 + 1) * 2
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{40, 40}));
  EXPECT_EQ(post_calls, 1);
}

TEST(Autograd, RetainGradKeepsANonLeafGradient) {
  Tensor x = leaf({1, 2});
  Tensor mid = x * 3;
  mid.retain_grad();
  (mid * mid).backward(ones({2}));
  EXPECT_EQ(to_vector<float>(mid.grad()), (std::vector<float>{6, 12}));
}

TEST(Autograd, InPlaceOnSavedTensorIsRejected) {
  Tensor x = leaf({1, 2});
  Tensor a = x * 1;
  Tensor y = a * a;  // saves a
  a.add_(ones({2}));
  expect_error([&] { y.backward(ones({2})); },
               {"modified by an inplace operation", "is at version 1; expected version 0"});
}

TEST(Autograd, InPlaceOnLeafRequiringGradIsRejected) {
  Tensor x = leaf({1, 2});
  expect_error([&] { x.add_(ones({2})); }, {"leaf tensor that requires grad", "in-place"});
  NoGradGuard guard;  // allowed without history, as an optimizer step does
  x.add_(ones({2}));
  EXPECT_EQ(to_vector<float>(x), (std::vector<float>{2, 3}));
}

TEST(Autograd, InPlaceRebasesHistory) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2;
  y.mul_(x);  // y = 2x * x: dy/dx = 4x
  y.add_(x, 3.0);  // + 3x
  y.backward(ones({2}));
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{7, 11}));
}

TEST(Autograd, ViewsPassGradientsBack) {
  Tensor x = from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}).requires_grad_();
  Tensor y = x.t().slice(0, 1, std::nullopt).reshape({4}) * from_vector<float>({1, 2, 3, 4}, {4});
  y.backward(ones({4}));
  // x.t() rows 1..2 are x's columns 1..2, flattened as (1,0),(1,1),(2,0),(2,1).
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{0, 1, 3, 0, 2, 4}));
  Tensor e = leaf({1, 2}).view({2, 1});
  Tensor b = e.expand({2, 3}) * 1;
  b.backward(ones({2, 3}));
}

TEST(Autograd, DtypeCastPassesGradientInOriginalDtype) {
  Tensor x = leaf({1, 2});
  Tensor y = x.to(DType::f64) * 3;
  y.backward(ones({2}, DType::f64));
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{3, 3}));
}

}  // namespace
}  // namespace dlt

namespace dlt {
namespace {

TEST(AutogradInPlace, StaleViewOfRebasedTensorIsRefused) {
  Tensor x = from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor y = x * 1;
  Tensor v = y.select(0, 0);
  y.mul_(full({2}, 2.0));
  expect_error([&] { v.backward(); }, {"view of a tensor that was later modified in place"});
  expect_error([&] { (v * 3).sum(); }, {"view of a tensor that was later modified in place"});
  // A view taken after the in-place op is fine and sees the new history.
  Tensor w = y.select(0, 0);
  w.backward();
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{2, 0}));
}

TEST(AutogradInPlace, WritingIntoAnIntegerTensorRecordsNothing) {
  Tensor i = zeros({2}, DType::i64);
  Tensor w = from_vector<float>({1.5, 2.5}, {2}).requires_grad_();
  i.copy_(w * 2);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_EQ(to_vector<int64_t>(i), (std::vector<int64_t>{3, 5}));
}

TEST(AutogradInPlace, FillAndCopyDoNotTurnInfIntoNan) {
  Tensor x = from_vector<float>({0, 1}, {2}).requires_grad_();
  Tensor y = log(x);  // [-inf, 0]
  y.fill_(1);
  EXPECT_EQ(to_vector<float>(y), (std::vector<float>{1, 1}));
  Tensor p = from_vector<float>({0.5, 1}, {2}).requires_grad_();
  Tensor q = log(p);
  q.fill_(1);
  q.sum().backward();  // the filled value no longer depends on p
  EXPECT_EQ(to_vector<float>(p.grad()), (std::vector<float>{0, 0}));
  Tensor z = log(x);
  Tensor src = from_vector<float>({3, 4}, {2}).requires_grad_();
  z.copy_(src);
  (z * z).sum().backward();
  EXPECT_EQ(to_vector<float>(src.grad()), (std::vector<float>{6, 8}));
}

TEST(AutogradInPlace, RetainGradFollowsTheNewHistory) {
  Tensor x = from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor y = x * 1;
  y.retain_grad();
  y.mul_(full({2}, 3.0));
  (y * y).sum().backward();
  EXPECT_EQ(to_vector<float>(y.grad()), (std::vector<float>{6, 12}));  // 2y, y = 3x
}

TEST(AutogradFormulas, PowAtZeroIsFinite) {
  Tensor a = zeros({1}).requires_grad_();
  Tensor b = zeros({1}).requires_grad_();
  pow(a, b).sum().backward();
  EXPECT_EQ(to_vector<float>(a.grad()), (std::vector<float>{0}));
  EXPECT_EQ(to_vector<float>(b.grad()), (std::vector<float>{0}));
}

}  // namespace
}  // namespace dlt
