// conv2d on a GPU (cuDNN) against the float64 CPU kernels on the same values:
// forward, input and weight (+ bias) gradients over stride, padding,
// dilation, groups, depthwise, 1x1 and unbatched inputs, in f32 (TF32 off and
// on), f64, f16 and bf16; empty batches.
#include "dlt/core/math_mode.h"
#include "dlt/ops/conv_backward.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

using A2 = std::array<int64_t, 2>;

struct Geometry {
  Shape x, weight;
  A2 stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
};

const Geometry kGeometries[] = {
    {.x = {2, 8, 12, 12}, .weight = {16, 8, 3, 3}, .padding = {1, 1}},
    {.x = {2, 6, 15, 13}, .weight = {10, 6, 3, 3}, .stride = {2, 2}, .padding = {1, 1}},
    {.x = {2, 4, 12, 11}, .weight = {6, 4, 3, 3}, .padding = {2, 2}, .dilation = {2, 2}},
    {.x = {2, 12, 10, 10}, .weight = {8, 3, 3, 3}, .padding = {1, 1}, .groups = 4},
    {.x = {2, 8, 11, 11}, .weight = {8, 1, 3, 3}, .stride = {2, 2}, .padding = {1, 1},
     .groups = 8},
    {.x = {3, 5, 9, 9}, .weight = {7, 5, 1, 1}},
    {.x = {1, 3, 17, 16}, .weight = {4, 3, 5, 4}, .stride = {3, 2}, .padding = {2, 1},
     .dilation = {1, 2}},
    {.x = {3, 9, 8}, .weight = {5, 3, 2, 3}, .stride = {1, 2}},  // unbatched (C, H, W)
};

void check_conv(DType dtype, double tol) {
  Generator gen(21);
  for (const Geometry& g : kGeometries) {
    const std::string what = fmt::format("{} x {} weight {} stride {} padding {} dilation {} "
                                         "groups {}",
                                         dtype, shape_str(g.x), shape_str(g.weight), g.stride,
                                         g.padding, g.dilation, g.groups);
    const ops::Conv2dAttrs attrs{g.stride, g.padding, g.dilation, g.groups};
    const Tensor x = randn(g.x, DType::f32, &gen).to(dtype);
    const Tensor w = (randn(g.weight, DType::f32, &gen) * 0.3).to(dtype);
    const Tensor b = randn({g.weight[0]}, DType::f32, &gen).to(dtype);
    const Tensor x64 = as_f64(x), w64 = as_f64(w), b64 = as_f64(b);

    const Tensor y64 = conv2d(x64, w64, b64, g.stride, g.padding, g.dilation, g.groups);
    expect_gpu_close(conv2d(on_cuda(x), on_cuda(w), on_cuda(b), g.stride, g.padding, g.dilation,
                            g.groups),
                     y64, tol, what + " forward");
    expect_gpu_close(conv2d(on_cuda(x), on_cuda(w), Tensor(), g.stride, g.padding, g.dilation,
                            g.groups),
                     conv2d(x64, w64, Tensor(), g.stride, g.padding, g.dilation, g.groups), tol,
                     what + " forward without bias");

    const Tensor dy = randn(y64.shape(), DType::f32, &gen).to(dtype);
    const Tensor dy64 = as_f64(dy);
    expect_gpu_close(ops::conv2d_backward_input(on_cuda(dy), on_cuda(w), x.shape(), attrs),
                     ops::conv2d_backward_input(dy64, w64, x.shape(), attrs), tol, what + " dx");
    const auto grads = ops::conv2d_backward_weight(on_cuda(dy), on_cuda(x), w.shape(), true, attrs);
    const auto grads64 = ops::conv2d_backward_weight(dy64, x64, w.shape(), true, attrs);
    expect_gpu_close(grads.weight, grads64.weight, tol, what + " dweight");
    expect_gpu_close(grads.bias, grads64.bias, tol, what + " dbias");
    const auto no_bias = ops::conv2d_backward_weight(on_cuda(dy), on_cuda(x), w.shape(), false, attrs);
    EXPECT_FALSE(no_bias.bias.defined()) << what;
    expect_gpu_close(no_bias.weight, grads64.weight, tol, what + " dweight without bias");
  }
}

TEST(CudaConv2d, Float32MatchesFloat64) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope full_f32(false);
  check_conv(DType::f32, 1e-4);  // Winograd and FFT algorithms err by ~1e-5
}

TEST(CudaConv2d, Float32WithTf32WithinItsTolerance) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope tf32(true);
  check_conv(DType::f32, 5e-3);
}

TEST(CudaConv2d, Float64MatchesFloat64) {
  DLT_SKIP_WITHOUT_CUDA();
  check_conv(DType::f64, 1e-12);
}

// Results rounded to 8 (f16: 11) significant bits after f32 accumulation.
TEST(CudaConv2d, HalfPrecisionWithinTolerance) {
  DLT_SKIP_WITHOUT_CUDA();
  check_conv(DType::f16, 3e-3);
  check_conv(DType::bf16, 2e-2);
}

TEST(CudaConv2d, EmptyBatchGivesZeroGradients) {
  DLT_SKIP_WITHOUT_CUDA();
  const ops::Conv2dAttrs attrs{};
  const Tensor x = on_cuda(zeros({0, 3, 5, 5})), w = on_cuda(ones({4, 3, 3, 3}));
  const Tensor y = conv2d(x, w);
  EXPECT_EQ(y.shape(), (Shape{0, 4, 3, 3}));
  const Tensor dy = on_cuda(zeros({0, 4, 3, 3}));
  const auto grads = ops::conv2d_backward_weight(dy, x, w.shape(), true, attrs);
  EXPECT_EQ(to_vector<double>(grads.weight), std::vector<double>(108, 0.0));
  EXPECT_EQ(to_vector<double>(grads.bias), std::vector<double>(4, 0.0));
}

}  // namespace
}  // namespace dlt::testing
