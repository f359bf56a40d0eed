// matmul and linear on a GPU (cuBLASLt, cuBLAS for f64, a loop for integers)
// against float64 CPU results on the same values: vector and batched
// broadcast shapes, transposed and offset views, sizes 1 / 7 / 1000, the TF32
// switch, f16 / bf16, linear's bias epilogue and its backward pass.
#include <chrono>

#include "dlt/core/math_mode.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

// Random values rounded to `dtype`; the float64 references use the same
// rounded values, so only the GPU's arithmetic is measured.
Tensor values(const Shape& shape, DType dtype, Generator& gen) {
  return randn(shape, DType::f32, &gen).to(dtype);
}

void check_matmul(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  const Tensor got = matmul(on_cuda(a), on_cuda(b));
  EXPECT_EQ(got.dtype(), a.dtype()) << what;
  const bool reduced = a.dtype() == DType::f16 || a.dtype() == DType::bf16;
  if (reduced) expect_gpu_norm_close(got, matmul(as_f64(a), as_f64(b)), tol, what);
  else expect_gpu_close(got, matmul(as_f64(a), as_f64(b)), tol, what);
}

struct MatmulShapes {
  Shape a, b;
};

const MatmulShapes kShapes[] = {
    {{7}, {7}},                   // dot product: a 0-d result
    {{7}, {7, 5}},                // vector @ matrix
    {{3, 7}, {7}},                // matrix @ vector
    {{1, 1}, {1, 1}},
    {{1, 1000}, {1000, 1}},
    {{1000, 7}, {7, 1}},
    {{7, 1000}, {1000, 7}},
    {{33, 65}, {65, 17}},
    {{4, 3, 5}, {5, 2}},          // B shared by the batch: folded into M
    {{3, 5}, {4, 5, 2}},          // A shared by the batch
    {{2, 1, 3, 4}, {5, 4, 6}},    // batch dims broadcast both ways
    {{2, 3, 4, 5}, {2, 3, 5, 6}},
    {{6, 7}, {2, 7, 3}},
    {{2, 3, 7}, {7}},
    {{7}, {2, 7, 3}},
};

TEST(CudaMatmul, ShapesMatchFloat64ByDtype) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope full_f32(false);
  const std::pair<DType, double> dtypes[] = {
      {DType::f32, 1e-4}, {DType::f64, 1e-12}, {DType::f16, 2e-3}, {DType::bf16, 1e-2}};
  Generator gen(7);
  for (const auto& [dtype, tol] : dtypes)
    for (const MatmulShapes& s : kShapes)
      check_matmul(values(s.a, dtype, gen), values(s.b, dtype, gen), tol,
                   fmt::format("{} {} @ {}", dtype, shape_str(s.a), shape_str(s.b)));
}

TEST(CudaMatmul, IntegersAreExact) {
  DLT_SKIP_WITHOUT_CUDA();
  for (DType dtype : {DType::i64, DType::i32}) {
    const Tensor a = randint(-5, 6, {2, 3, 4}, dtype), b = randint(-5, 6, {4, 5}, dtype);
    const Tensor got = matmul(on_cuda(a), on_cuda(b));
    EXPECT_EQ(to_vector<int64_t>(got), to_vector<int64_t>(matmul(a, b))) << dtype_name(dtype);
  }
}

// Transposed views are read in place (BLAS's op = T); an offset view starts
// at an address cuBLASLt's default 256-byte alignment assumption rejects.
TEST(CudaMatmul, TransposedAndOffsetViews) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope full_f32(false);
  Generator gen(11);
  const Tensor a = values({9, 7}, DType::f32, gen), b = values({5, 9}, DType::f32, gen);
  const Tensor a_gpu = on_cuda(a), b_gpu = on_cuda(b);
  expect_gpu_close(matmul(a_gpu.t(), b_gpu.t()), matmul(as_f64(a).t(), as_f64(b).t()), 1e-5,
                   "a.t() @ b.t()");
  const Tensor c = values({3, 9, 5}, DType::f32, gen);
  expect_gpu_close(matmul(on_cuda(c).transpose(1, 2), a_gpu),
                   matmul(as_f64(c).transpose(1, 2), as_f64(a)), 1e-5, "batched transpose");
  const Tensor wide = values({10, 20}, DType::f32, gen);
  const Tensor rhs = values({7, 3}, DType::f32, gen);
  expect_gpu_close(matmul(on_cuda(wide).narrow(1, 1, 7), on_cuda(rhs)),
                   matmul(as_f64(wide).narrow(1, 1, 7), as_f64(rhs)), 1e-5, "offset view");
}

TEST(CudaMatmul, EmptyInnerDimGivesZeros) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor got = matmul(on_cuda(zeros({3, 0})), on_cuda(zeros({0, 4})));
  EXPECT_EQ(to_vector<double>(got), std::vector<double>(12, 0.0));
}

// A K = 1000 product of randn values: full f32 errs by up to ~6e-5 (partial
// sums near 30 rounded 1000 times), TF32 (10-bit mantissas) by ~1e-2, so the
// f32 tolerance fails if TF32 is used without being allowed.
TEST(CudaMatmul, Tf32OnlyWhenAllowed) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(3);
  const Tensor a = values({64, 1000}, DType::f32, gen), b = values({1000, 48}, DType::f32, gen);
  const Tensor want = matmul(as_f64(a), as_f64(b));
  {
    const Tf32Scope off(false);
    expect_gpu_close(matmul(on_cuda(a), on_cuda(b)), want, 2e-4, "tf32 off");
  }
  const Tf32Scope on(true);
  expect_gpu_norm_close(matmul(on_cuda(a), on_cuda(b)), want, 2e-3, "tf32 on");
}

// linear = x W^T + b with any leading dims, and its gradients by autograd.
void check_linear(DType dtype, bool with_bias, double tol) {
  Generator gen(5);
  const std::string what = fmt::format("linear {} bias={}", dtype, with_bias);
  const Tensor x = values({2, 3, 7}, dtype, gen), w = values({5, 7}, dtype, gen);
  const Tensor b = with_bias ? values({5}, dtype, gen) : Tensor();
  const Tensor dy = values({2, 3, 5}, dtype, gen);

  const Tensor xg = on_cuda(x).requires_grad_(), wg = on_cuda(w).requires_grad_();
  Tensor bg = on_cuda(b);
  if (with_bias) bg.requires_grad_();
  const Tensor y = linear(xg, wg, bg);
  y.backward(on_cuda(dy));

  const Tensor x64 = as_f64(x).requires_grad_(), w64 = as_f64(w).requires_grad_();
  Tensor b64 = as_f64(b);
  if (with_bias) b64.requires_grad_();
  const Tensor y64 = linear(x64, w64, b64);
  y64.backward(as_f64(dy));

  expect_gpu_close(y, y64, tol, what + " forward");
  expect_gpu_close(xg.grad(), x64.grad(), tol, what + " dx");
  expect_gpu_close(wg.grad(), w64.grad(), tol, what + " dweight");
  if (with_bias) expect_gpu_close(bg.grad(), b64.grad(), tol, what + " dbias");
}

TEST(CudaLinear, ForwardAndBackwardMatchFloat64) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope full_f32(false);
  for (bool with_bias : {false, true}) {
    check_linear(DType::f32, with_bias, 1e-5);
    check_linear(DType::f64, with_bias, 1e-12);
    check_linear(DType::f16, with_bias, 2e-3);
    check_linear(DType::bf16, with_bias, 1e-2);
  }
}

TEST(CudaLinear, VectorInputAndEmptyFeatures) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(9);
  const Tensor x = values({7}, DType::f32, gen), w = values({4, 7}, DType::f32, gen);
  const Tensor b = values({4}, DType::f32, gen);
  expect_gpu_close(linear(on_cuda(x), on_cuda(w), on_cuda(b)),
                   linear(as_f64(x), as_f64(w), as_f64(b)), 1e-5, "linear of a vector");
  // in_features = 0: every row is the bias.
  const Tensor got = linear(on_cuda(zeros({3, 0})), on_cuda(zeros({4, 0})), on_cuda(b));
  expect_gpu_close(got, as_f64(b).expand({3, 4}), 0, "linear with no input features");
}

}  // namespace
}  // namespace dlt::testing

namespace dlt::testing {
namespace {

// Timing, not correctness (run with --gtest_also_run_disabled_tests): the
// linear layers of a GPT-2-small step, TF32 on, 2-D and 3-D inputs.
TEST(CudaMatmul, DISABLED_TimesGpt2Linears) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tf32Scope tf32(true);
  auto time_ms = [](auto&& f) {
    f();
    synchronize(Device::cuda());
    const int reps = 10;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    synchronize(Device::cuda());
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
  };
  Generator gen(1);
  for (const auto& [in, out] : std::vector<std::pair<int64_t, int64_t>>{
           {768, 2304}, {768, 768}, {768, 3072}, {3072, 768}, {768, 50257}}) {
    const Tensor x = on_cuda(randn({8, 1024, in}, DType::f32, &gen));
    const Tensor w = on_cuda(randn({out, in}, DType::f32, &gen));
    const Tensor b = on_cuda(randn({out}, DType::f32, &gen));
    const double flop = 2.0 * 8192 * double(in) * double(out);
    const double with_bias = time_ms([&] { linear(x, w, b); });
    const double no_bias = time_ms([&] { linear(x, w, Tensor()); });
    const double flat = time_ms([&] { linear(x.view({8192, in}), w, b); });
    fmt::print("linear [8, 1024, {}] -> {}: bias {:.3f} ms ({:.0f} TFLOP/s), no bias {:.3f} ms, 2-D {:.3f} ms\n",
               in, out, with_bias, flop / with_bias / 1e9, no_bias, flat);
  }
}

}  // namespace
}  // namespace dlt::testing
