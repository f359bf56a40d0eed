// attach_backward: a backward written as a function for a result computed
// without history (what MultiHeadAttention's fused GPU path uses).
#include <gtest/gtest.h>

#include "dlt/autograd/function.h"
#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// y = a * b computed under NoGradGuard, its backward attached by hand.
Tensor product_with_own_backward(const Tensor& a, const Tensor& b) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = mul(a, b);
  }
  const Tensor inputs[] = {a, b};
  autograd::attach_backward(y, inputs, "ProductBackward",
                            [a = a.detach(), b = b.detach()](const Tensor& g) {
                              return std::vector<Tensor>{mul(g, b), mul(g, a)};
                            });
  return y;
}

TEST(AttachBackward, GradientsFlowToEveryInput) {
  const Tensor a = from_vector<double>({1, 2, 3}, {3}).requires_grad_();
  const Tensor b = from_vector<double>({4, 5, 6}, {3}).requires_grad_();
  const Tensor y = product_with_own_backward(a, b);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "ProductBackward");
  sum(mul(y, y)).backward();  // d/da sum((ab)^2) = 2 a b^2
  EXPECT_EQ(to_vector<double>(a.grad()), (std::vector<double>{32, 100, 216}));
  EXPECT_EQ(to_vector<double>(b.grad()), (std::vector<double>{8, 40, 108}));
}

TEST(AttachBackward, NothingIsAttachedWithoutGradients) {
  const Tensor a = from_vector<double>({1, 2}, {2}), b = from_vector<double>({3, 4}, {2});
  EXPECT_FALSE(product_with_own_backward(a, b).requires_grad());
  const Tensor c = from_vector<double>({1, 2}, {2}).requires_grad_();
  NoGradGuard no_grad;
  EXPECT_FALSE(product_with_own_backward(c, b).requires_grad());
}

TEST(AttachBackward, ASecondBackwardNeedsRetainGraph) {
  const Tensor a = from_vector<double>({1, 2}, {2}).requires_grad_();
  const Tensor b = from_vector<double>({3, 4}, {2});
  const Tensor y = product_with_own_backward(a, b);
  const Tensor ones = ones_like(y);
  y.backward(ones, /*retain_graph=*/true);
  y.backward(ones);
  EXPECT_EQ(to_vector<double>(a.grad()), (std::vector<double>{6, 8}));
  expect_error([&] { y.backward(ones); }, {"ProductBackward", "retain_graph"});
}

}  // namespace
}  // namespace dlt::testing
