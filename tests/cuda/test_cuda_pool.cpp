// Pooling on a GPU against the CPU kernels: max pooling's values and indices
// (bitwise) and gradient, average pooling with and without counted padding
// and ceil mode, adaptive average pooling down and up, in every floating
// dtype; gradients against float64.
#include "dlt/ops/conv_backward.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

using A2 = std::array<int64_t, 2>;

const ops::Pool2dAttrs kWindows[] = {
    {.kernel = {2, 2}, .stride = {2, 2}},
    {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
    {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 1}, .ceil_mode = true},
    {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true,
     .count_include_pad = false},
    {.kernel = {2, 3}, .stride = {3, 1}, .padding = {0, 1}, .count_include_pad = false},
    {.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}, .dilation = {2, 2}},  // max only
};

const Shape kInputs[] = {{2, 3, 11, 10}, {4, 7, 9}};

const std::pair<DType, double> kDtypes[] = {
    {DType::f32, 1e-6}, {DType::f64, 1e-12}, {DType::f16, 1e-3}, {DType::bf16, 8e-3}};

std::string describe(DType dtype, const Shape& x, const ops::Pool2dAttrs& a) {
  return fmt::format("{} x {} kernel {} stride {} padding {} dilation {} ceil {} count_pad {}",
                     dtype, shape_str(x), a.kernel, a.stride, a.padding, a.dilation, a.ceil_mode,
                     a.count_include_pad);
}

TEST(CudaPool, MaxPoolValuesIndicesAndGradient) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(31);
  for (const auto& [dtype, tol] : kDtypes)
    for (const Shape& shape : kInputs)
      for (const ops::Pool2dAttrs& a : kWindows) {
        const std::string what = describe(dtype, shape, a);
        const Tensor x = randn(shape, DType::f32, &gen).to(dtype);
        const auto cpu = ops::max_pool2d_with_indices(x, a);
        const auto gpu = ops::max_pool2d_with_indices(on_cuda(x), a);
        EXPECT_EQ(to_vector<double>(gpu.values), to_vector<double>(cpu.values)) << what;
        EXPECT_EQ(to_vector<int64_t>(gpu.indices), to_vector<int64_t>(cpu.indices)) << what;

        const Tensor dy = randn(cpu.values.shape(), DType::f32, &gen).to(dtype);
        const Tensor dx = ops::max_pool2d_backward(on_cuda(dy), gpu.indices, shape, a);
        expect_gpu_close(dx, ops::max_pool2d_backward(as_f64(dy), cpu.indices, shape, a), tol,
                         what + " backward");
      }
}

TEST(CudaPool, AvgPoolForwardAndBackward) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(37);
  for (const auto& [dtype, tol] : kDtypes)
    for (const Shape& shape : kInputs)
      for (const ops::Pool2dAttrs& a : kWindows) {
        if (a.dilation != A2{1, 1}) continue;  // avg_pool2d has no dilation
        const std::string what = describe(dtype, shape, a);
        const Tensor x = randn(shape, DType::f32, &gen).to(dtype);
        const Tensor y64 = avg_pool2d(as_f64(x), a.kernel, a.stride, a.padding, a.ceil_mode,
                                      a.count_include_pad);
        expect_gpu_close(avg_pool2d(on_cuda(x), a.kernel, a.stride, a.padding, a.ceil_mode,
                                    a.count_include_pad),
                         y64, tol, what);
        const Tensor dy = randn(y64.shape(), DType::f32, &gen).to(dtype);
        expect_gpu_close(ops::avg_pool2d_backward(on_cuda(dy), shape, a),
                         ops::avg_pool2d_backward(as_f64(dy), shape, a), tol, what + " backward");
      }
}

TEST(CudaPool, AdaptiveAvgPoolForwardAndBackward) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(41);
  const A2 outputs[] = {{1, 1}, {3, 5}, {4, 4}, {9, 13}, {11, 10}};
  for (const auto& [dtype, tol] : kDtypes)
    for (const Shape& shape : kInputs)
      for (const A2& out : outputs) {
        const std::string what =
            fmt::format("{} x {} adaptive to {}", dtype, shape_str(shape), out);
        const Tensor x = randn(shape, DType::f32, &gen).to(dtype);
        const Tensor y64 = adaptive_avg_pool2d(as_f64(x), out);
        expect_gpu_close(adaptive_avg_pool2d(on_cuda(x), out), y64, tol, what);
        const Tensor dy = randn(y64.shape(), DType::f32, &gen).to(dtype);
        expect_gpu_close(ops::adaptive_avg_pool2d_backward(on_cuda(dy), shape),
                         ops::adaptive_avg_pool2d_backward(as_f64(dy), shape), tol,
                         what + " backward");
      }
}

TEST(CudaPool, AdaptiveToEmptyOutput) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor y = adaptive_avg_pool2d(on_cuda(ones({2, 3, 4, 5})), {0, 2});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 0, 2}));
  const Tensor dx = ops::adaptive_avg_pool2d_backward(on_cuda(zeros({2, 3, 0, 2})), {2, 3, 4, 5});
  EXPECT_EQ(to_vector<double>(dx), std::vector<double>(120, 0.0));
}

}  // namespace
}  // namespace dlt::testing
