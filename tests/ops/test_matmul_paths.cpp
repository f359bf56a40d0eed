// Large f32 products take oneDNN's jit GEMM or its brgemm matmul by layout
// and shape (kernels/cpu/matmul.cpp). Every layout on either side of the
// rule must give the product: checked against the same product in f64.
#include <cmath>

#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// op(a) (m, k) op(b) (k, n) as linear layers lay them out: NN (dx = dy w),
// NT (the forward's x w^T, with a bias), TN (the weight gradient dy^T x).
enum class Layout { nn, nt, tn };

void expect_product(Layout layout, int64_t m, int64_t k, int64_t n) {
  Generator gen(11);
  const Tensor a = layout == Layout::tn ? randn({k, m}, {}, &gen) : randn({m, k}, {}, &gen);
  const Tensor b = layout == Layout::nt ? randn({n, k}, {}, &gen) : randn({k, n}, {}, &gen);
  const Tensor bias = randn({n}, {}, &gen);
  auto product = [&](const Tensor& x, const Tensor& y, const Tensor& c) {
    switch (layout) {
      case Layout::nn: return matmul(x, y);
      case Layout::nt: return linear(x, y, c);
      case Layout::tn: return matmul(x.t(), y);
    }
    return Tensor();
  };
  const Tensor got = product(a, b, bias);
  const Tensor want = product(a.to(DType::f64), b.to(DType::f64), bias.to(DType::f64));
  ASSERT_EQ(got.shape(), (Shape{m, n}));
  const std::vector<float> g = to_vector<float>(got);
  const std::vector<double> w = to_vector<double>(want);
  // Sums of k products of unit normals: |c| ~ sqrt(k), and f32 accumulation
  // loses up to ~sqrt(k) eps of that. A wrong operand is off by ~sqrt(k).
  const double tolerance = 8 * double(k) * 1.2e-7;
  int64_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i) bad += std::abs(g[i] - w[i]) > tolerance;
  EXPECT_EQ(bad, 0) << "layout " << int(layout) << ", " << m << " x " << k << " x " << n;
}

TEST(MatmulPaths, LargeProductsInEveryLayoutAgreeWithDouble) {
  // At least 2^27 multiply-adds each, on both sides of every layout's rule.
  expect_product(Layout::nn, 512, 512, 512);
  expect_product(Layout::nt, 256, 512, 1024);  // n > k: jit
  expect_product(Layout::nt, 256, 1024, 512);  // n <= k: brgemm
  expect_product(Layout::tn, 512, 512, 512);   // m <= n: jit
  expect_product(Layout::tn, 1024, 512, 256);  // m > n: brgemm
}

}  // namespace
}  // namespace dlt::testing
