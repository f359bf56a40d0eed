// Elementwise kernels on cuda against the CPU's on the geometries the GPU
// loops treat differently: vectorised contiguous, strided (transposed,
// sliced, misaligned), broadcast, empty, and large enough to need several
// grids (grid-stride loops), in 32- and 64-bit index paths.
#include <limits>

#include "tests/cuda/cuda_test_util.h"

namespace dlt::testing {
namespace {

using CudaElementwise = CudaTest;

constexpr double kFloatTol = 2e-6;

TEST_F(CudaElementwise, UnaryOpsMatchCpuOnContiguousAndTransposed) {
  Generator g(11);
  const Tensor x = uniform({67, 129}, -3, 3, {}, &g);
  const Tensor pos = uniform({67, 129}, 0.1, 4, {}, &g);
  const Tensor xc = on_cuda(x), pc = on_cuda(pos);
  for (const bool transposed : {false, true}) {
    auto T = [&](const Tensor& t) { return transposed ? t.t() : t; };
    expect_close(neg(T(x)), neg(T(xc)), 0, 0);
    expect_close(abs(T(x)), abs(T(xc)), 0, 0);
    expect_close(relu(T(x)), relu(T(xc)), 0, 0);
    expect_close(sign(T(x)), sign(T(xc)), 0, 0);
    expect_close(exp(T(x)), exp(T(xc)), kFloatTol, 0);
    expect_close(log(T(pos)), log(T(pc)), kFloatTol, 1e-7);
    expect_close(log1p(T(pos)), log1p(T(pc)), kFloatTol, 1e-7);
    expect_close(sqrt(T(pos)), sqrt(T(pc)), kFloatTol, 0);
    expect_close(rsqrt(T(pos)), rsqrt(T(pc)), kFloatTol, 0);
    expect_close(sin(T(x)), sin(T(xc)), kFloatTol, 1e-7);
    expect_close(cos(T(x)), cos(T(xc)), kFloatTol, 1e-7);
    expect_close(tanh(T(x)), tanh(T(xc)), kFloatTol, 1e-7);
    expect_close(sigmoid(T(x)), sigmoid(T(xc)), kFloatTol, 1e-7);
    expect_close(silu(T(x)), silu(T(xc)), kFloatTol, 1e-7);
    expect_close(gelu(T(x)), gelu(T(xc)), 1e-5, 1e-7);
    expect_close(gelu(T(x), true), gelu(T(xc), true), 1e-5, 1e-7);
    expect_close(softplus(T(x), 2, 3), softplus(T(xc), 2, 3), kFloatTol, 1e-7);
    expect_close(pow(T(pos), 2.5), pow(T(pc), 2.5), kFloatTol, 0);
    expect_close(pow(T(x), 2), pow(T(xc), 2), 0, 0);
    expect_close(clamp(T(x), -1.0, 0.5), clamp(T(xc), -1.0, 0.5), 0, 0);
    expect_close(ops::gelu_backward(T(pos), T(x), false), ops::gelu_backward(T(pc), T(xc), false),
                 1e-5, 1e-7);
    expect_close(ops::gelu_backward(T(pos), T(x), true), ops::gelu_backward(T(pc), T(xc), true),
                 1e-5, 1e-7);
  }
}

TEST_F(CudaElementwise, NanHandlingMatchesCpu) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {nan, -1, 0, 2, nan, 3};
  const Tensor x = from_blob(v.data(), {6}, DType::f32);
  const Tensor y = from_blob(std::vector<float>{1, nan, 0, 5, -2, 1}.data(), {6}, DType::f32);
  expect_close(relu(x), relu(on_cuda(x)), 0, 0);
  expect_close(clamp(x, 0.0, 1.0), clamp(on_cuda(x), 0.0, 1.0), 0, 0);
  expect_close(maximum(x, y), maximum(on_cuda(x), on_cuda(y)), 0, 0);
  expect_close(minimum(x, y), minimum(on_cuda(x), on_cuda(y)), 0, 0);
  expect_close(eq(x, y), eq(on_cuda(x), on_cuda(y)), 0, 0);
  expect_close(ne(x, y), ne(on_cuda(x), on_cuda(y)), 0, 0);
}

TEST_F(CudaElementwise, BinaryOpsBroadcastLikeCpu) {
  Generator g(12);
  const Tensor a = uniform({7, 1, 5}, -2, 2, {}, &g), b = uniform({6, 5}, 0.5, 2, {}, &g);
  const Tensor ac = on_cuda(a), bc = on_cuda(b);
  expect_close(add(a, b, 2.5), add(ac, bc, 2.5), kFloatTol, 1e-7);
  expect_close(sub(a, b, -0.5), sub(ac, bc, -0.5), kFloatTol, 1e-7);
  expect_close(mul(a, b), mul(ac, bc), 0, 0);
  expect_close(div(a, b), div(ac, bc), kFloatTol, 0);
  expect_close(pow(b, a), pow(bc, ac), kFloatTol, 0);
  expect_close(maximum(a, b), maximum(ac, bc), 0, 0);
  expect_close(minimum(b, a), minimum(bc, ac), 0, 0);
  expect_close(lt(a, b), lt(ac, bc), 0, 0);
  expect_close(le(a, b), le(ac, bc), 0, 0);
  expect_close(gt(a, b), gt(ac, bc), 0, 0);
  expect_close(ge(a, b), ge(ac, bc), 0, 0);
  expect_close(where(gt(a, b), a, b), where(gt(ac, bc), ac, bc), 0, 0);
  expect_close(masked_fill(a.expand({7, 6, 5}), lt(a, b), -9),
               masked_fill(ac.expand({7, 6, 5}), lt(ac, bc), -9), 0, 0);
}

TEST_F(CudaElementwise, IntegerAndHalfDtypesMatchCpu) {
  Generator g(13);
  const Tensor i = randint(-50, 50, {33, 17}, DType::i64, &g);
  const Tensor j = randint(1, 9, {17}, DType::i64, &g);
  const Tensor ic = on_cuda(i), jc = on_cuda(j);
  expect_close(add(i, j, 3), add(ic, jc, 3), 0, 0);
  expect_close(mul(i, j), mul(ic, jc), 0, 0);
  expect_close(pow(j, 3), pow(jc, 3), 0, 0);
  expect_close(abs(i), abs(ic), 0, 0);
  expect_close(clamp(i, -5.0, 7.0), clamp(ic, -5.0, 7.0), 0, 0);
  const Tensor i32 = i.to(DType::i32), u8 = abs(i).to(DType::u8);
  expect_close(maximum(i32, i32 - 1), maximum(on_cuda(i32), on_cuda(i32) - 1), 0, 0);
  expect_close(neg(u8), neg(on_cuda(u8)), 0, 0);
  for (const DType t : {DType::f16, DType::bf16}) {
    const Tensor h = uniform({129, 3}, -2, 2, {}, &g).to(t);
    const Tensor hc = on_cuda(h);
    expect_close(mul(h, h), mul(hc, hc), 0, 0);               // float compute, one rounding: same
    expect_close(add(h, h, 0.5), add(hc, hc, 0.5), 1e-2, 0);  // the device may fuse x + a*y
    expect_close(exp(h), exp(hc), 1e-2, 0);
  }
}

TEST_F(CudaElementwise, EmptyAndZeroDimTensors) {
  const Tensor e = zeros({0, 3}, cuda());
  EXPECT_EQ(add(e, e).shape(), (Shape{0, 3}));
  EXPECT_EQ(exp(e).numel(), 0);
  const Tensor s = full({}, 2.0, cuda());
  EXPECT_FLOAT_EQ(mul(s, s).item<float>(), 4.0f);
  EXPECT_EQ(to_vector<float>(add(full({3}, 1.0, cuda()), s)), (std::vector<float>{3, 3, 3}));
}

TEST_F(CudaElementwise, MisalignedSlicesTakeTheScalarPath) {
  Generator g(14);
  const Tensor x = uniform({1027}, -1, 1, {}, &g);
  const Tensor xs = x.narrow(0, 1, 1025), xcs = on_cuda(x).narrow(0, 1, 1025);  // 4-byte offset
  expect_close(mul(xs, xs), mul(xcs, xcs), 0, 0);
  expect_close(x.narrow(0, 3, 1020) * 2, on_cuda(x).narrow(0, 3, 1020) * 2, 0, 0);
}

TEST_F(CudaElementwise, FillsNonContiguousViewsInPlace) {
  const Tensor e = eye(5, cuda());
  expect_close(eye(5), e, 0, 0);
  Tensor t = zeros({4, 6}, cuda(DType::f64));
  t.t().narrow(0, 1, 2).fill_(7.5);
  Tensor expected = zeros({4, 6}, DType::f64);
  expected.t().narrow(0, 1, 2).fill_(7.5);
  expect_close(expected, t, 0, 0);
  expect_close(arange(3, 40, 3, DType::i32), arange(3, 40, 3, cuda(DType::i32)), 0, 0);
  expect_close(linspace(-1, 2, 11), linspace(-1, 2, 11, cuda()), 1e-6, 1e-7);
}

// More elements than one grid of 65535 blocks x 1024 covers: the vectorised
// contiguous path and the broadcast (strided) path both loop.
TEST_F(CudaElementwise, LargeTensorsNeedSeveralGrids) {
  const int64_t n = 65535LL * 1024 + 77;
  const Tensor x = arange(0, n, 1, cuda(DType::f32));
  const std::vector<float> y = to_vector<float>(add(x, x, 0.5));
  ASSERT_EQ(int64_t(y.size()), n);
  for (int64_t i : {int64_t(0), int64_t(12345), n / 2, n - 78, n - 1})
    EXPECT_EQ(y[size_t(i)], float(i) + 0.5f * float(i)) << i;

  const int64_t R = 8209, C = 8199;  // R * C > 65535 * 1024
  const Tensor col = arange(0, R, 1, cuda(DType::i32)).reshape({R, 1});
  const Tensor row = arange(0, C, 1, cuda(DType::i32));
  const std::vector<int32_t> s =
      to_vector<int32_t>(add(mul(col, full({}, C, cuda(DType::i32))), row));
  ASSERT_EQ(int64_t(s.size()), R * C);
  for (int64_t i : {int64_t(0), int64_t(C + 3), R * C / 2 + 1, R * C - 1})
    EXPECT_EQ(s[size_t(i)], int32_t(i)) << i;
}

}  // namespace
}  // namespace dlt::testing
