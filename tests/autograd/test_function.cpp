// attach_backward: a backward written as a function for a result computed
// without history (what MultiHeadAttention's fused GPU path and the recurrent
// layers use), for one output or several.
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

// (sum, difference) = (a + b, a - b) as one node with two outputs.
TEST(AttachBackward, SeveralOutputsEachGetTheirGradientOrZeros) {
  const Tensor a = from_vector<double>({1, 2}, {2}).requires_grad_();
  const Tensor b = from_vector<double>({3, 5}, {2}).requires_grad_();
  Tensor outputs[2];
  {
    NoGradGuard no_grad;
    outputs[0] = add(a, b);
    outputs[1] = sub(a, b);
  }
  const Tensor inputs[] = {a, b};
  autograd::attach_backward(outputs, inputs, "SumAndDifferenceBackward",
                            [](std::span<const Tensor> g) {
                              return std::vector<Tensor>{add(g[0], g[1]), sub(g[0], g[1])};
                            });
  ASSERT_TRUE(outputs[0].grad_fn() && outputs[0].grad_fn() == outputs[1].grad_fn());
  EXPECT_EQ(outputs[1].output_nr(), 1u);
  sum(mul(outputs[0], outputs[1])).backward();  // a^2 - b^2
  EXPECT_EQ(to_vector<double>(a.grad()), (std::vector<double>{2, 4}));
  EXPECT_EQ(to_vector<double>(b.grad()), (std::vector<double>{-6, -10}));
  // Only the second output used: the first's gradient arrives as zeros.
  const Tensor c = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor pair[2];
  {
    NoGradGuard no_grad;
    pair[0] = c.clone();
    pair[1] = c.clone();
  }
  const Tensor c_in[] = {c};
  autograd::attach_backward(pair, c_in, "PairBackward", [](std::span<const Tensor> g) {
    EXPECT_EQ(to_vector<double>(g[0]), (std::vector<double>{0, 0}));
    return std::vector<Tensor>{add(g[0], g[1] * 3.0)};
  });
  sum(pair[1]).backward();
  EXPECT_EQ(to_vector<double>(c.grad()), (std::vector<double>{3, 3}));
}

}  // namespace
}  // namespace dlt::testing
