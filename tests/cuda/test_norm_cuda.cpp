// GPU layer_norm / batch_norm, forward and backward, against the CPU
// kernels: saved statistics, running-statistics updates, NCHW and (N, C)
// layouts, short and long rows, absent affine parameters, f16 / bf16.
// Tolerances: f32 results within 1e-4 (float statistics against the CPU's
// double ones), f64 within 1e-9.
#include "dlt/ops/dispatch.h"
#include "dlt/ops/norm_backward.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

using ops::OpId;

DType stats_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }
TensorOptions like(const Tensor& t, DType dt) { return TensorOptions(dt).device(t.device()); }

// y, mean, rstd as the layer_norm op returns them to its autograd formula.
std::vector<Tensor> run_layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, int64_t k) {
  const Shape rows(x.shape().begin(), x.shape().end() - k);
  const ops::LayerNormAttrs attrs{k, 1e-5};
  Tensor ins[] = {x, w, b};
  const TensorOptions stats = like(x, stats_dtype(x.dtype()));
  Tensor outs[] = {empty(x.shape(), like(x, x.dtype())), empty(rows, stats), empty(rows, stats)};
  ops::run(OpId::layer_norm, ins, outs, &attrs);
  return {outs[0], outs[1], outs[2]};
}

void expect_layer_norm_match(const Shape& shape, int64_t k, DType dt, bool affine, double tol,
                             const std::string& what) {
  Generator gen(21);
  const Tensor x = (randn(shape, DType::f32, &gen) * 2.0 + 0.5).to(dt);
  const Shape normalized(shape.end() - k, shape.end());
  const Tensor w = affine ? randn(normalized, DType::f32, &gen).to(dt) : Tensor();
  const Tensor b = affine ? randn(normalized, DType::f32, &gen).to(dt) : Tensor();
  const Tensor grad = randn(shape, DType::f32, &gen).to(dt);
  const std::vector<Tensor> cpu = run_layer_norm(x, w, b, k);
  const std::vector<Tensor> gpu = run_layer_norm(on_cuda(x), on_cuda(w), on_cuda(b), k);
  for (size_t i = 0; i < 3; ++i)
    expect_close(gpu[i], cpu[i], tol, tol, what + " forward output " + std::to_string(i));
  const ops::GradMask need{true, affine, affine};
  const ops::AffineGrads want = ops::layer_norm_backward(grad, x, cpu[1], cpu[2], w, k, need);
  const ops::AffineGrads got = ops::layer_norm_backward(on_cuda(grad), on_cuda(x), gpu[1], gpu[2],
                                                        on_cuda(w), k, need);
  expect_close(got.input, want.input, tol, tol, what + " grad_x");
  if (!affine) return;
  // Column sums over all rows: the absolute error grows with the row count.
  const double sum_tol = tol * 10;
  expect_close(got.weight, want.weight, sum_tol, sum_tol, what + " grad_weight");
  expect_close(got.bias, want.bias, sum_tol, sum_tol, what + " grad_bias");
}

TEST(CudaLayerNorm, ShortAndLongRows) {
  DLT_SKIP_WITHOUT_CUDA();
  expect_layer_norm_match({64, 768}, 1, DType::f32, true, 1e-4, "(64, 768)");
  expect_layer_norm_match({3, 5, 5000}, 1, DType::f32, true, 1e-4, "(3, 5, 5000)");
  expect_layer_norm_match({2000, 4, 8}, 2, DType::f32, true, 1e-4, "(2000, 4, 8) over 2 dims");
  expect_layer_norm_match({33, 100}, 1, DType::f64, true, 1e-9, "(33, 100) f64");
  expect_layer_norm_match({50, 300}, 1, DType::f32, false, 1e-4, "(50, 300) without affine");
}

TEST(CudaLayerNorm, HalfPrecision) {
  DLT_SKIP_WITHOUT_CUDA();
  expect_layer_norm_match({32, 1024}, 1, DType::f16, true, 5e-3, "f16");
  expect_layer_norm_match({32, 1024}, 1, DType::bf16, true, 3e-2, "bf16");
}

// y, save_mean, save_invstd; the running statistics move in place.
std::vector<Tensor> run_batch_norm(const Tensor& x, const Tensor& rm, const Tensor& rv,
                                   const Tensor& w, const Tensor& b, bool training) {
  const ops::BatchNormAttrs attrs{training, 0.1, 1e-5};
  const int64_t C = x.size(1);
  Tensor ins[] = {x, rm, rv, w, b};
  const TensorOptions stats = like(x, stats_dtype(x.dtype()));
  Tensor outs[] = {empty(x.shape(), like(x, x.dtype())), empty({C}, stats), empty({C}, stats)};
  ops::run(OpId::batch_norm, ins, outs, &attrs);
  return {outs[0], outs[1], outs[2]};
}

// The running statistics are f32 (running_var: var_dtype) whatever x's dtype.
void expect_batch_norm_match(const Shape& shape, DType dt, bool training, double tol,
                             const std::string& what, DType var_dtype = DType::f32) {
  Generator gen(22);
  const int64_t C = shape[1];
  const Tensor x = (randn(shape, DType::f32, &gen) * 3.0 + 2.0).to(dt);
  const Tensor w = randn({C}, DType::f32, &gen).to(dt), b = randn({C}, DType::f32, &gen).to(dt);
  const Tensor grad = randn(shape, DType::f32, &gen).to(dt);
  const Tensor rm = rand({C}, DType::f32, &gen);
  const Tensor rv = (rand({C}, DType::f32, &gen) + 0.5).to(var_dtype);
  const Tensor grm = on_cuda(rm), grv = on_cuda(rv);
  const Tensor crm = rm.clone(), crv = rv.clone();
  const std::vector<Tensor> cpu = run_batch_norm(x, crm, crv, w, b, training);
  const std::vector<Tensor> gpu = run_batch_norm(on_cuda(x), grm, grv, on_cuda(w), on_cuda(b),
                                                 training);
  for (size_t i = 0; i < 3; ++i)
    expect_close(gpu[i], cpu[i], tol, tol, what + " forward output " + std::to_string(i));
  expect_close(grm, crm, tol, tol, what + " running_mean");
  expect_close(grv, crv, tol, tol, what + " running_var");
  const ops::GradMask need{true, true, true};
  const ops::AffineGrads want =
      ops::batch_norm_backward(grad, x, w, cpu[1], cpu[2], training, need);
  const ops::AffineGrads got = ops::batch_norm_backward(on_cuda(grad), on_cuda(x), on_cuda(w),
                                                        gpu[1], gpu[2], training, need);
  expect_close(got.input, want.input, tol, tol, what + " grad_x");
  const double sum_tol = tol * 10;  // sums over B * S elements
  expect_close(got.weight, want.weight, sum_tol, sum_tol, what + " grad_weight");
  expect_close(got.bias, want.bias, sum_tol, sum_tol, what + " grad_bias");
}

TEST(CudaBatchNorm, NchwAndRowsTrainingAndEval) {
  DLT_SKIP_WITHOUT_CUDA();
  for (bool training : {true, false}) {
    const std::string mode = training ? " training" : " eval";
    expect_batch_norm_match({16, 8, 10, 10}, DType::f32, training, 1e-4, "(16, 8, 10, 10)" + mode);
    expect_batch_norm_match({300, 40}, DType::f32, training, 1e-4, "(300, 40)" + mode);
    expect_batch_norm_match({64, 3, 64, 64}, DType::f32, training, 1e-4, "(64, 3, 64, 64)" + mode);
    expect_batch_norm_match({7, 5, 9}, DType::f64, training, 1e-9, "(7, 5, 9) f64" + mode);
    expect_batch_norm_match({6, 4, 3, 3}, DType::f32, training, 1e-4,
                            "(6, 4, 3, 3) with an f64 running_var" + mode, DType::f64);
  }
}

TEST(CudaBatchNorm, HalfPrecision) {
  DLT_SKIP_WITHOUT_CUDA();
  expect_batch_norm_match({8, 16, 12, 12}, DType::bf16, true, 3e-2, "bf16");
  expect_batch_norm_match({128, 64}, DType::f16, true, 5e-3, "f16");
}

}  // namespace
}  // namespace dlt::testing
