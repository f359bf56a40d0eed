// GPU reductions against the CPU kernels: rows, columns, middle dims, all
// dims, strided (transposed, sliced) inputs, reduced-precision inputs,
// integer sums and the tie / nan rules of max / argmax.
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

// Every floating reduction of x over dims, GPU against CPU. `gx` is x on
// the GPU, possibly a strided view of the same values.
void expect_reductions_match(const Tensor& x, const Tensor& gx, const Shape& dims, double rtol,
                             const std::string& what) {
  for (bool keepdim : {false, true}) {
    const std::string w = what + (keepdim ? " keepdim" : "");
    expect_close(sum(gx, dims, keepdim), sum(x, dims, keepdim), rtol, rtol, w + " sum");
    expect_close(mean(gx, dims, keepdim), mean(x, dims, keepdim), rtol, rtol, w + " mean");
    expect_close(var(gx, dims, 1, keepdim), var(x, dims, 1, keepdim), rtol, rtol, w + " var");
    expect_equal(amax(gx, dims, keepdim), amax(x, dims, keepdim), w + " amax");
    expect_equal(amin(gx, dims, keepdim), amin(x, dims, keepdim), w + " amin");
    expect_close(logsumexp(gx, dims, keepdim), logsumexp(x, dims, keepdim), rtol, rtol,
                 w + " logsumexp");
  }
}

TEST(CudaReduce, RowsColumnsMiddleAndAllDims) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(7);
  const Tensor x = randn({6, 300, 17}, DType::f32, &gen);
  const Tensor gx = on_cuda(x);
  for (const Shape& dims : {Shape{2}, Shape{1}, Shape{0}, Shape{0, 2}, Shape{1, 2}, Shape{}})
    expect_reductions_match(x, gx, dims, 1e-5, "(6, 300, 17) over " + shape_str(dims));
}

TEST(CudaReduce, StridedInputsWithoutCopies) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(8);
  const Tensor x = randn({40, 9, 33}, DType::f32, &gen);
  const Tensor gx = on_cuda(x);
  // The same values through a transposed and a sliced view on both devices.
  const Tensor t = x.transpose(0, 2), gt = gx.transpose(0, 2);
  for (const Shape& dims : {Shape{0}, Shape{1}, Shape{2}, Shape{0, 1}, Shape{}})
    expect_reductions_match(t, gt, dims, 1e-5, "transposed over " + shape_str(dims));
  const Tensor s = x.narrow(2, 3, 20).narrow(0, 5, 30), gs = gx.narrow(2, 3, 20).narrow(0, 5, 30);
  for (const Shape& dims : {Shape{2}, Shape{0}, Shape{0, 2}, Shape{}})
    expect_reductions_match(s, gs, dims, 1e-5, "sliced over " + shape_str(dims));
}

// Few outputs over many elements: the sliced path and its combine.
TEST(CudaReduce, LargeReductionsAcrossSlices) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(9);
  const Tensor all = rand({1 << 21}, DType::f32, &gen);
  expect_reductions_match(all, on_cuda(all), {}, 1e-4, "2^21 elements");
  const Tensor columns = randn({50000, 40}, DType::f32, &gen);  // column reduction over dim 0
  expect_reductions_match(columns, on_cuda(columns), {0}, 1e-4, "(50000, 40) over 0");
  const Tensor rows = randn({3, 200000}, DType::f64, &gen);
  expect_reductions_match(rows, on_cuda(rows), {1}, 1e-10, "(3, 200000) f64 over 1");
  const Tensor short_rows = randn({30000, 5}, DType::f32, &gen);  // a thread per output
  expect_reductions_match(short_rows, on_cuda(short_rows), {1}, 1e-5, "(30000, 5) over 1");
  expect_equal(argmax(on_cuda(short_rows), 1), argmax(short_rows, 1), "(30000, 5) argmax");
  expect_reductions_match(short_rows.t(), on_cuda(short_rows).t(), {0}, 1e-5,
                          "(5, 30000) transposed over 0");
  const Tensor short_columns = randn({5, 30000}, DType::f32, &gen);
  expect_reductions_match(short_columns, on_cuda(short_columns), {0}, 1e-5, "(5, 30000) over 0");
}

TEST(CudaReduce, HalfPrecisionAccumulatesInFloat) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(10);
  for (DType dt : {DType::f16, DType::bf16}) {
    const Tensor x = randn({64, 3000}, DType::f32, &gen).to(dt);
    const Tensor gx = on_cuda(x);
    // One rounding of the float result: 2^-8 relative for bf16, 2^-11 for f16.
    const double tol = dt == DType::bf16 ? 8e-3 : 1e-3;
    expect_close(sum(gx, {1}), sum(x, {1}), tol, 0.05, "sum");
    expect_close(mean(gx, {0}), mean(x, {0}), tol, 1e-3, "mean");
    expect_close(var(gx, {1}), var(x, {1}), tol, 1e-3, "var");
    expect_equal(amax(gx, {1}), amax(x, {1}), "amax");
    expect_close(logsumexp(gx, {1}), logsumexp(x, {1}), tol, 1e-3, "logsumexp");
  }
}

TEST(CudaReduce, IntegerSumsReturnInt64) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(11);
  const Tensor x = randint(-1000, 1000, {70, 500}, DType::i32, &gen);
  const Tensor gx = on_cuda(x);
  for (const Shape& dims : {Shape{1}, Shape{0}, Shape{}}) {
    const Tensor got = sum(gx, dims);
    EXPECT_EQ(got.dtype(), DType::i64);
    expect_equal(got, sum(x, dims), "i32 sum over " + shape_str(dims));
    expect_equal(amax(gx, dims), amax(x, dims), "i32 amax");
  }
  const Tensor flags = x.to(DType::boolean);
  expect_equal(sum(on_cuda(flags), {1}), sum(flags, {1}), "bool sum");
}

// Ties go to the first index, a nan wins over everything (the first nan).
TEST(CudaReduce, MaxAndArgmaxTiesAndNan) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(12);
  // Few distinct values: many ties along both dims.
  std::vector<float> v = to_vector<float>(rand({37, 2100}, DType::f32, &gen) * 4.0);
  for (float& e : v) e = std::floor(e);
  v[5 * 2100 + 1500] = NAN;
  v[5 * 2100 + 1900] = NAN;
  v[20 * 2100 + 7] = NAN;
  const Tensor x = from_vector(v, {37, 2100});
  const Tensor gx = on_cuda(x);
  for (int64_t dim : {0, 1}) {
    const std::string w = "dim " + std::to_string(dim);
    const ValuesIndices got = max(gx, dim), want = max(x, dim);
    expect_equal(got.values, want.values, w + " max values");
    expect_equal(got.indices, want.indices, w + " max indices");
    const ValuesIndices got_min = min(gx, dim, true), want_min = min(x, dim, true);
    expect_equal(got_min.values, want_min.values, w + " min values");
    expect_equal(got_min.indices, want_min.indices, w + " min indices");
    expect_equal(argmax(gx, dim), argmax(x, dim), w + " argmax");
    expect_equal(argmin(gx, dim), argmin(x, dim), w + " argmin");
    expect_equal(amax(gx, {dim}), amax(x, {dim}), w + " amax");
  }
  // A strided (transposed) input and an integer one.
  expect_equal(argmax(gx.t(), 1), argmax(x.t(), 1), "transposed argmax");
  const Tensor xi = randint(0, 3, {300, 41}, DType::i64, &gen);
  expect_equal(argmin(on_cuda(xi), 0), argmin(xi, 0), "i64 argmin");
}

}  // namespace
}  // namespace dlt::testing
