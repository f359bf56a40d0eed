// Large f32 products take oneDNN's jit GEMM or its brgemm matmul by layout
// and shape, and on AVX2 k-major operands with 2 KiB row strides are copied
// to padded rows first (kernels/cpu/matmul.cpp). Every layout on either side
// of each rule must give the product: checked against the same product in f64.
#include <cmath>

#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// got (m, n) in f32 against want in f64, for sums of k products of unit normals.
void expect_close_to_double(const Tensor& got, const Tensor& want, int64_t k) {
  ASSERT_EQ(got.shape(), want.shape());
  const std::vector<float> g = to_vector<float>(got);
  const std::vector<double> w = to_vector<double>(want);
  // |c| ~ sqrt(k), and f32 accumulation loses up to ~sqrt(k) eps of that. A
  // wrong operand is off by ~sqrt(k).
  const double tolerance = 8 * double(k) * 1.2e-7;
  int64_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i) bad += std::abs(g[i] - w[i]) > tolerance;
  EXPECT_EQ(bad, 0) << got.size(0) << " x " << k << " x " << got.size(1);
}

// op(a) (m, k) op(b) (k, n) as linear layers lay them out: NN (dx = dy w),
// NT (the forward's x w^T, with a bias), TN (the weight gradient dy^T x).
enum class Layout { nn, nt, tn };

void expect_product(Layout layout, int64_t m, int64_t k, int64_t n) {
  SCOPED_TRACE(fmt::format("layout {}", int(layout)));
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
  const Tensor want = product(a.to(DType::f64), b.to(DType::f64), bias.to(DType::f64));
  expect_close_to_double(product(a, b, bias), want, k);
}

// a @ b in f32 against f64.
void expect_matmul(const Tensor& a, const Tensor& b) {
  SCOPED_TRACE(fmt::format("a strides ({}, {}), b strides ({}, {})", a.stride(0), a.stride(1), b.stride(0),
                           b.stride(1)));
  expect_close_to_double(matmul(a, b), matmul(a.to(DType::f64), b.to(DType::f64)), a.size(1));
}

TEST(MatmulPaths, LargeProductsInEveryLayoutAgreeWithDouble) {
  // At least 2^27 multiply-adds each, on both sides of every layout's rule.
  expect_product(Layout::nn, 512, 512, 512);
  expect_product(Layout::nt, 256, 512, 1024);  // n > k: jit
  expect_product(Layout::nt, 256, 1024, 512);  // n <= k: brgemm
  expect_product(Layout::tn, 512, 512, 512);   // m <= n: jit
  expect_product(Layout::tn, 1024, 512, 256);  // m > n: brgemm
}

TEST(MatmulPaths, KMajorOperandsWithAliasingRowStridesAgreeWithDouble) {
  Generator gen(12);
  // A^T stored (K, M) with rows 1024 apart (an LSTM's d W_hh): copied.
  expect_matmul(randn({512, 1024}, {}, &gen).t(), randn({512, 256}, {}, &gen));
  // B stored (K, N) with rows 512 apart, read by 128 and by 64 rows of A: copied.
  expect_matmul(randn({128, 512}, {}, &gen), randn({512, 512}, {}, &gen));
  expect_matmul(randn({64, 512}, {}, &gen), randn({512, 512}, {}, &gen));
  // Both, 512 apart, and views whose rows are wider than what the product reads.
  expect_matmul(randn({128, 512}, {}, &gen).t(), randn({128, 512}, {}, &gen));
  expect_matmul(randn({384, 2048}, {}, &gen).slice(1, 0, 300).t(),
                randn({384, 1024}, {}, &gen).slice(1, 100, 400));
  // Not copied: 32 rows of A (an LSTM step), strides of 256, products of 1024^3.
  expect_matmul(randn({32, 1024}, {}, &gen), randn({1024, 512}, {}, &gen));
  expect_matmul(randn({128, 256}, {}, &gen), randn({256, 256}, {}, &gen));
  expect_matmul(randn({1024, 1024}, {}, &gen), randn({1024, 1024}, {}, &gen));
}

// A linear layer with no rows or no output features: empty results, and
// parameter gradients of the right shapes (zeros), as torch.
TEST(MatmulPaths, LinearOfNoRowsOrNoFeaturesHasGradients) {
  for (const auto& [rows, out] : {std::pair<int64_t, int64_t>{0, 5}, {6, 0}}) {
    Tensor x = randn({2, rows, 4}).requires_grad_();
    Tensor w = randn({out, 4}).requires_grad_();
    Tensor b = randn({out}).requires_grad_();
    const Tensor y = linear(x, w, b);
    EXPECT_EQ(y.shape(), (Shape{2, rows, out}));
    y.sum().backward();
    EXPECT_EQ(to_vector<float>(w.grad()), std::vector<float>(size_t(out * 4), 0.0f));
    EXPECT_EQ(to_vector<float>(b.grad()), std::vector<float>(size_t(out), 0.0f));
    EXPECT_EQ(x.grad().shape(), x.shape());
  }
}

}  // namespace
}  // namespace dlt::testing
