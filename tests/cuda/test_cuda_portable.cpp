// The portable tiled GEMM and convolution kernels (the HIP build's matmul,
// linear and conv2d) run on the CUDA device against the CPU in float64, for
// odd shapes that leave partial tiles, transposed and broadcast operands,
// groups, strides, padding and dilation. Skipped without a GPU; named Cuda/*
// so the `gpu` ctest group (tests/cuda/run_gpu_tests.sh) runs them.
#if defined(DLT_WITH_CUDA) || defined(DLT_WITH_HIP)

#include <cmath>

#include "dlt/core/device_runtime.h"
#include "dlt/ops/conv_backward.h"
#include "kernels/cuda/portable_ops.h"
#include "kernels/cuda/tensor_arg_host.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::compare_close;
using testing::to_vector;

constexpr DeviceType kGpu = DeviceType::DLT_GPU_DEVICE;

struct Tolerance {
  double rtol, atol;
};
// Inputs are drawn in the tested dtype and the reference computed from those
// same values in float64, so only accumulation and the final rounding differ.
Tolerance tolerance(DType t) {
  switch (t) {
    case DType::f64: return {1e-10, 1e-10};
    case DType::f32: return {1e-4, 1e-4};
    case DType::f16: return {4e-3, 4e-3};
    case DType::bf16: return {2e-2, 2e-2};
    default: return {0, 0};  // integers: exact
  }
}

Tensor input(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  if (!is_floating(dtype)) return randint(-4, 5, shape, dtype, &gen);
  return randn(shape, DType::f32, &gen).to(dtype);
}

Tensor on_gpu(const Tensor& t) { return t.defined() ? t.to(Device{kGpu, 0}) : t; }
Tensor f64(const Tensor& t) { return t.defined() ? t.to(DType::f64) : t; }
Tensor gpu_empty(const Shape& shape, DType dtype) {
  return empty(shape, TensorOptions(dtype).device(Device{kGpu, 0}));
}

void expect_close(const Tensor& gpu, const Tensor& reference, DType dtype,
                  const std::string& what) {
  ASSERT_EQ(gpu.shape(), reference.shape()) << what;
  const Tolerance tol = tolerance(dtype);
  EXPECT_EQ(compare_close(to_vector<double>(gpu), to_vector<double>(reference), tol.rtol, tol.atol),
            "")
      << what << " (" << dtype_name(dtype) << ")";
}

class PortableKernels : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (device_count(kGpu) == 0)
      GTEST_SKIP() << "no GPU: " << device_unavailable_reason(kGpu);
  }
};

// Turns a tensor into the operand under test (a transpose, an expand...).
// Applied after the copy to the GPU, so the kernel sees the view's strides.
using View = Tensor (*)(const Tensor&);
Tensor as_is(const Tensor& t) { return t; }

// view(a) @ view(b) on the GPU against matmul in float64 on the CPU.
void check_matmul(const Tensor& a, const Tensor& b, DType dtype, const std::string& what,
                  View a_view = as_is, View b_view = as_is) {
  const Tensor expected = matmul(a_view(f64(a)), b_view(f64(b)));
  Tensor out = gpu_empty(expected.shape(), dtype);
  gpu::portable_matmul(a_view(on_gpu(a)), b_view(on_gpu(b)), out);
  expect_close(out, expected, dtype, what);
}

TEST_P(PortableKernels, MatmulShapes) {
  const DType t = GetParam();
  check_matmul(input({67, 33}, t, 1), input({33, 129}, t, 2), t, "(67, 33) @ (33, 129)");
  check_matmul(input({1, 1}, t, 3), input({1, 1}, t, 4), t, "(1, 1) @ (1, 1)");
  check_matmul(input({3, 1, 17, 40}, t, 5), input({5, 40, 9}, t, 6), t, "broadcast batch");
  check_matmul(input({2, 70, 65}, t, 7), input({65, 3}, t, 8), t, "batch folded into rows");
  check_matmul(input({40}, t, 9), input({40, 70}, t, 10), t, "vector @ matrix");
  check_matmul(input({4, 70, 40}, t, 11), input({40}, t, 12), t, "batched matrix @ vector");
  check_matmul(input({300}, t, 13), input({300}, t, 14), t, "vector @ vector");
  check_matmul(input({5, 0}, t, 15), input({0, 7}, t, 16), t, "K = 0 gives zeros");
}

TEST_P(PortableKernels, MatmulTransposedAndExpandedOperands) {
  const DType t = GetParam();
  const View transposed = [](const Tensor& x) { return x.transpose(-2, -1); };
  // Column-major operands (transposed views) are read in place.
  check_matmul(input({33, 67}, t, 21), input({129, 33}, t, 22), t, "a.t() @ b.t()", transposed,
               transposed);
  check_matmul(input({6, 19, 23}, t, 23), input({6, 19, 31}, t, 24), t, "batched a^T @ b",
               transposed);
  // A batch dim of stride 0 (expanded) on the left, every other batch on the right.
  check_matmul(
      input({1, 18, 20}, t, 25), input({8, 20, 21}, t, 26), t, "expanded @ strided batch",
      [](const Tensor& x) { return x.expand({4, 18, 20}); },
      [](const Tensor& x) { return x.slice(0, 0, 8, 2); });
}

TEST_P(PortableKernels, Linear) {
  const DType t = GetParam();
  if (!is_floating(t)) GTEST_SKIP() << "linear is floating only";
  const Tensor w = input({70, 65}, t, 31), bias = input({70}, t, 32);
  for (const Shape& xs : {Shape{4, 37, 65}, Shape{65}, Shape{129, 65}}) {
    const Tensor x = input(xs, t, 33);
    for (const Tensor& b : {bias, Tensor()}) {
      const Tensor expected = linear(f64(x), f64(w), f64(b));
      Tensor out = gpu_empty(expected.shape(), t);
      gpu::portable_linear(on_gpu(x), on_gpu(w), on_gpu(b), out);
      expect_close(out, expected, t,
                   "linear x " + shape_str(xs) + (b.defined() ? " with bias" : " without bias"));
    }
  }
}

struct ConvCase {
  Shape x, weight;
  ops::Conv2dAttrs attrs;
  const char* what;
};

const ConvCase kConvCases[] = {
    {{2, 6, 11, 9}, {4, 3, 3, 2}, {{2, 1}, {1, 2}, {1, 2}, 2},
     "groups 2, stride, padding, dilation"},
    {{3, 13, 12}, {70, 3, 5, 5}, {{1, 1}, {2, 2}, {1, 1}, 1}, "unbatched, 5x5 'same', 70 channels"},
    {{5, 4, 7, 8}, {4, 1, 3, 3}, {{3, 2}, {0, 1}, {2, 1}, 4}, "depthwise, stride 3"},
    {{1, 20, 6, 6}, {9, 20, 1, 1}, {{1, 1}, {0, 0}, {1, 1}, 1}, "1x1"},
};

TEST_P(PortableKernels, Conv2dForwardAndBackward) {
  const DType t = GetParam();
  if (!is_floating(t)) GTEST_SKIP() << "conv2d is floating only";
  uint64_t seed = 40;
  for (const ConvCase& c : kConvCases) {
    const Tensor x = input(c.x, t, ++seed), w = input(c.weight, t, ++seed);
    const Tensor bias = input({c.weight[0]}, t, ++seed);
    const ops::Conv2dAttrs& a = c.attrs;
    const Tensor y = conv2d(f64(x), f64(w), f64(bias), a.stride, a.padding, a.dilation, a.groups);
    Tensor gy = gpu_empty(y.shape(), t);
    gpu::portable_conv2d(on_gpu(x), on_gpu(w), on_gpu(bias), a, gy);
    expect_close(gy, y, t, std::string("conv2d ") + c.what);

    const Tensor dy = input(y.shape(), t, ++seed);
    const Tensor dx = ops::conv2d_backward_input(f64(dy), f64(w), x.shape(), a);
    Tensor gdx = gpu_empty(x.shape(), t);
    gpu::portable_conv2d_backward_input(on_gpu(dy), on_gpu(w), a, gdx);
    expect_close(gdx, dx, t, std::string("conv2d backward input ") + c.what);

    const ops::Conv2dParamGrads grads =
        ops::conv2d_backward_weight(f64(dy), f64(x), w.shape(), true, a);
    Tensor gdw = gpu_empty(w.shape(), t), gdb = gpu_empty({c.weight[0]}, t);
    gpu::portable_conv2d_backward_weight(on_gpu(dy), on_gpu(x), a, gdw, gdb);
    expect_close(gdw, grads.weight, t, std::string("conv2d backward weight ") + c.what);
    expect_close(gdb, grads.bias, t, std::string("conv2d backward bias ") + c.what);
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, PortableKernels,
                         ::testing::Values(DType::f32, DType::f64, DType::f16, DType::bf16,
                                           DType::i64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace dlt

#endif  // DLT_WITH_CUDA || DLT_WITH_HIP
