// Behaviour of conv2d and pooling beyond the op table: the oneDNN paths
// (f32, bf16, f16) against the float64 direct-loop reference, torch's tie and
// NaN rules of max pooling, thread-count independence, concurrency, and
// empty batches.
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "dlt/core/parallel.h"
#include "dlt/ops/conv_backward.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using A2 = std::array<int64_t, 2>;

std::vector<double> host(const Tensor& t) { return to_vector<double>(t); }

// |a - b| <= tol (1 + |b|): relative, without blowing up for outputs near
// zero. Indexing bugs give errors of order one.
void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const std::string err = compare_close(host(a), host(b), tol, tol);
  EXPECT_TRUE(err.empty()) << what << ": " << err;
}

void expect_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(host(a), host(b)) << what;
}

struct Geometry {
  Shape x, weight;
  A2 stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
};

// Sizes where oneDNN chooses blocked layouts and its JIT kernels, plus the
// awkward cases: groups, depthwise, stride with remainder, dilation, 1x1.
const Geometry kGeometries[] = {
    {.x = {4, 32, 14, 14}, .weight = {64, 32, 3, 3}, .padding = {1, 1}},
    {.x = {2, 16, 15, 13}, .weight = {24, 16, 3, 3}, .stride = {2, 2}, .padding = {1, 1}},
    {.x = {2, 16, 12, 12}, .weight = {16, 16, 3, 3}, .padding = {2, 2}, .dilation = {2, 2}},
    {.x = {2, 32, 10, 10}, .weight = {32, 8, 3, 3}, .padding = {1, 1}, .groups = 4},
    {.x = {2, 32, 11, 11}, .weight = {32, 1, 3, 3}, .stride = {2, 2}, .padding = {1, 1},
     .groups = 32},
    {.x = {3, 24, 9, 9}, .weight = {40, 24, 1, 1}},
    {.x = {1, 3, 17, 16}, .weight = {8, 3, 5, 4}, .stride = {3, 2}, .padding = {2, 1}},
};

// The low precision dtype's oneDNN path against the float64 reference run
// on the very same (rounded) values, forward and both backward passes.
void check_against_reference(DType dtype, double tol) {
  Generator gen(1234);
  for (const Geometry& g : kGeometries) {
    const std::string what = fmt::format("{} x {} {} weight {}", dtype, shape_str(g.x),
                                         shape_str(g.weight), g.groups);
    const ops::Conv2dAttrs attrs{g.stride, g.padding, g.dilation, g.groups};
    const Tensor x = randn(g.x, DType::f32, &gen).to(dtype);
    const Tensor w = (randn(g.weight, DType::f32, &gen) * 0.2).to(dtype);
    const Tensor b = randn({g.weight[0]}, DType::f32, &gen).to(dtype);
    const Tensor y = conv2d(x, w, b, g.stride, g.padding, g.dilation, g.groups);
    const Tensor x64 = x.to(DType::f64), w64 = w.to(DType::f64), b64 = b.to(DType::f64);
    const Tensor y64 = conv2d(x64, w64, b64, g.stride, g.padding, g.dilation, g.groups);
    expect_close(y, y64, tol, what + " forward");

    const Tensor dy = randn(y.shape(), DType::f32, &gen).to(dtype);
    const Tensor dy64 = dy.to(DType::f64);
    expect_close(ops::conv2d_backward_input(dy, w, x.shape(), attrs),
                 ops::conv2d_backward_input(dy64, w64, x.shape(), attrs), tol, what + " dx");
    const auto grads = ops::conv2d_backward_weight(dy, x, w.shape(), true, attrs);
    const auto grads64 = ops::conv2d_backward_weight(dy64, x64, w.shape(), true, attrs);
    expect_close(grads.weight, grads64.weight, tol, what + " dweight");
    expect_close(grads.bias, grads64.bias, tol, what + " dbias");
  }
}

// f32 accumulation over up to ~2000 terms: errors of a few 1e-6 relative.
TEST(ConvOneDnn, Float32MatchesFloat64Reference) { check_against_reference(DType::f32, 1e-4); }
// bf16 output rounding alone is 2^-8 relative.
TEST(ConvOneDnn, BFloat16MatchesFloat64Reference) { check_against_reference(DType::bf16, 1e-2); }
// f16 computes in f32 (reorders convert); output rounding 2^-11 relative.
TEST(ConvOneDnn, Float16MatchesFloat64Reference) { check_against_reference(DType::f16, 2e-3); }

TEST(ConvOneDnn, ConcurrentCallsAgree) {
  Generator gen(7);
  const Tensor x = randn({2, 16, 9, 9}, DType::f32, &gen);
  const Tensor w = randn({8, 16, 3, 3}, DType::f32, &gen);
  const Tensor expected = conv2d(x, w, Tensor(), {1, 1}, {1, 1});
  std::vector<Tensor> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&] { r = conv2d(x, w, Tensor(), {1, 1}, {1, 1}); });
  for (auto& t : threads) t.join();
  for (const Tensor& r : results) expect_equal(r, expected, "concurrent conv2d");
}

TEST(ConvEmptyBatch, GivesEmptyOutputAndZeroParameterGradients) {
  const ops::Conv2dAttrs attrs;
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = zeros({0, 3, 5, 5}, dtype), w = ones({4, 3, 3, 3}, dtype);
    const Tensor y = conv2d(x, w, ones({4}, dtype));
    EXPECT_EQ(y.shape(), (Shape{0, 4, 3, 3}));
    const auto grads =
        ops::conv2d_backward_weight(zeros({0, 4, 3, 3}, dtype), x, w.shape(), true, attrs);
    expect_equal(grads.weight, zeros({4, 3, 3, 3}), "dweight of an empty batch");
    expect_equal(grads.bias, zeros({4}), "dbias of an empty batch");
  }
}

// Results must not depend on the thread count: planes are the unit of work
// and every reduction has a fixed order.
TEST(ConvPoolDeterminism, SameBitsForOneAndTwoThreads) {
  Generator gen(99);
  const Tensor x = randn({3, 6, 13, 11}, DType::f64, &gen);
  const Tensor w = randn({4, 6, 3, 3}, DType::f64, &gen);
  const ops::Conv2dAttrs attrs{.stride = {2, 1}, .padding = {1, 1}};
  const ops::Pool2dAttrs pool{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
  auto run_all = [&] {
    const Tensor y = conv2d(x, w, Tensor(), attrs.stride, attrs.padding);
    const Tensor dy = ones_like(y);
    const auto mp = ops::max_pool2d_with_indices(x, pool);
    return std::vector<Tensor>{
        y, ops::conv2d_backward_input(dy, w, x.shape(), attrs),
        ops::conv2d_backward_weight(dy, x, w.shape(), true, attrs).weight, mp.values,
        ops::max_pool2d_backward(ones_like(mp.values), mp.indices, x.shape(), pool),
        avg_pool2d(x, {3, 3}, A2{2, 2}, {1, 1}),
        ops::avg_pool2d_backward(ones({3, 6, 7, 6}, DType::f64), x.shape(), pool),
        adaptive_avg_pool2d(x, {5, 4})};
  };
  testing::ThreadCountGuard restore;
  set_num_threads(1);
  const std::vector<Tensor> one = run_all();
  set_num_threads(2);
  const std::vector<Tensor> two = run_all();
  for (size_t i = 0; i < one.size(); ++i) expect_equal(one[i], two[i], fmt::format("result {}", i));
}

// torch scans each window row by row and keeps the first maximum.
TEST(MaxPool, TiesPickTheFirstMaximumInScanOrder) {
  // plane 4 x 4, windows 2 x 2 stride 2
  const Tensor x = from_vector<float>({1, 3, 3, 0,   //
                                       3, 2, 0, 0,   //
                                       5, 5, 7, 1,   //
                                       5, 5, 2, 7},  //
                                      {1, 1, 4, 4});
  const auto r = ops::max_pool2d_with_indices(x, {.kernel = {2, 2}, .stride = {2, 2}});
  EXPECT_EQ(host(r.values), (std::vector<double>{3, 3, 5, 7}));
  EXPECT_EQ(host(r.indices), (std::vector<double>{1, 2, 8, 10}));
  const Tensor dx = ops::max_pool2d_backward(ones({1, 1, 2, 2}), r.indices, x.shape(),
                                             {.kernel = {2, 2}, .stride = {2, 2}});
  EXPECT_EQ(host(dx), (std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0}));
}

// Overlapping windows that share a maximum add their gradients there.
TEST(MaxPool, OverlappingWindowsAccumulateGradient) {
  const Tensor x = from_vector<double>({0, 1, 0,  //
                                        1, 9, 1,  //
                                        0, 1, 0},
                                       {1, 3, 3});
  const ops::Pool2dAttrs a{.kernel = {2, 2}, .stride = {1, 1}};
  const auto r = ops::max_pool2d_with_indices(x, a);
  EXPECT_EQ(host(r.indices), (std::vector<double>{4, 4, 4, 4}));
  const Tensor dx = ops::max_pool2d_backward(from_vector<double>({1, 2, 3, 4}, {1, 2, 2}),
                                             r.indices, x.shape(), a);
  EXPECT_EQ(host(dx), (std::vector<double>{0, 0, 0, 0, 10, 0, 0, 0, 0}));
}

// As torch: a NaN in a window is the result (the last NaN's index if several).
TEST(MaxPool, NanPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = from_vector<float>({1, nan, 2, nan}, {1, 1, 2, 2});
  const auto r = ops::max_pool2d_with_indices(x, {.kernel = {2, 2}, .stride = {2, 2}});
  EXPECT_TRUE(std::isnan(host(r.values)[0]));
  EXPECT_EQ(host(r.indices)[0], 3);
}

// The vectorised rows (interior windows of 2x2/2, 3x3/2 and 3x3/1 kernels,
// AVX-512 for f32 2x2/2) against a plain scan of every window, on values
// with many ties and some NaNs, widths from 1 to 37 (vector steps of 16 and
// their masked or scalar remainders) and padded borders.
TEST(MaxPool, VectorRowsMatchAPlainScan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Config {
    int64_t k, s, p;
    bool ceil;
  };
  for (const Config cfg : {Config{2, 2, 0, false}, Config{2, 2, 1, false}, Config{2, 2, 0, true},
                           Config{3, 2, 1, false}, Config{3, 1, 1, false}, Config{3, 2, 0, true}}) {
    for (int64_t W = 1; W <= 37; ++W) {
      const int64_t H = 5;
      if (W + 2 * cfg.p < cfg.k) continue;
      std::vector<double> v(size_t(2 * H * W));
      for (size_t i = 0; i < v.size(); ++i)
        v[i] = (i * 7 + i / 5) % 11 == 3 ? nan : double((i * 13) % 4);
      const ops::Pool2dAttrs a{.kernel = {cfg.k, cfg.k}, .stride = {cfg.s, cfg.s},
                               .padding = {cfg.p, cfg.p}, .ceil_mode = cfg.ceil};
      for (DType dt : {DType::f32, DType::f64}) {
        const auto r = ops::max_pool2d_with_indices(from_vector<double>(v, {2, H, W}).to(dt), a);
        const int64_t Ho = r.values.size(1), Wo = r.values.size(2);
        const std::vector<double> got = host(r.values), idx = host(r.indices);
        for (int64_t pl = 0; pl < 2; ++pl)
          for (int64_t oh = 0; oh < Ho; ++oh)
            for (int64_t ow = 0; ow < Wo; ++ow) {
              double best = -std::numeric_limits<double>::infinity();
              int64_t arg = -1;
              for (int64_t ih = oh * cfg.s - cfg.p; ih < oh * cfg.s - cfg.p + cfg.k; ++ih)
                for (int64_t iw = ow * cfg.s - cfg.p; iw < ow * cfg.s - cfg.p + cfg.k; ++iw) {
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  const double x = v[size_t((pl * H + ih) * W + iw)];
                  if (arg < 0) arg = ih * W + iw;
                  if (x > best || std::isnan(x)) best = x, arg = ih * W + iw;
                }
              const size_t o = size_t((pl * Ho + oh) * Wo + ow);
              const std::string where = fmt::format("k{} s{} p{} ceil {} W {} {} at ({}, {}, {})",
                                                    cfg.k, cfg.s, cfg.p, cfg.ceil, W,
                                                    dt == DType::f32 ? "f32" : "f64", pl, oh, ow);
              EXPECT_EQ(idx[o], double(arg)) << where;
              if (std::isnan(best)) EXPECT_TRUE(std::isnan(got[o])) << where;
              else EXPECT_EQ(got[o], best) << where;
            }
      }
    }
  }
}

// With padding, windows never look at padded positions: a plane of large
// negatives still pools to them, not to a padded zero (or -inf).
TEST(MaxPool, PaddingIsNeverTheMaximum) {
  const Tensor x = full({1, 1, 3, 3}, -5.0);
  const Tensor y = max_pool2d(x, {3, 3}, A2{2, 2}, {1, 1});
  EXPECT_EQ(host(y), (std::vector<double>(4, -5.0)));
}

TEST(AdaptiveAvgPool, WindowsFollowTorchsStartEndFormula) {
  // 7 -> 3: windows [0, 3), [2, 5), [4, 7)
  std::vector<double> row = {1, 2, 3, 4, 5, 6, 7};
  const Tensor x = from_vector<double>(row, {1, 1, 1, 7});
  EXPECT_EQ(host(adaptive_avg_pool2d(x, {1, 3})), (std::vector<double>{2, 4, 6}));
  // Zero output size gives an empty tensor, as torch.
  EXPECT_EQ(adaptive_avg_pool2d(x, {0, 3}).shape(), (Shape{1, 1, 0, 3}));
}

}  // namespace
}  // namespace dlt::testing
