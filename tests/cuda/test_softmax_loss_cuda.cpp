// GPU softmax / log_softmax, cross_entropy and nll_loss (forward and
// backward) against the CPU kernels: vocabulary-sized rows (50257), many
// short rows, a middle softmax dim, spatial class dims, label smoothing,
// ignore_index, every reduction and f16 / bf16 inputs.
#include "dlt/ops/attrs.h"
#include "dlt/ops/nn_backward.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt::testing {
namespace {

void expect_softmax_match(const Tensor& x, int64_t dim, double tol, const std::string& what) {
  const Tensor gx = on_cuda(x);
  Generator gen(3);
  const Tensor g = randn(x.shape(), DType::f32, &gen).to(x.dtype());
  const Tensor gg = on_cuda(g);
  const Tensor y = softmax(x, dim), ly = log_softmax(x, dim);
  expect_close(softmax(gx, dim), y, tol, tol, what + " softmax");
  expect_close(log_softmax(gx, dim), ly, tol, tol, what + " log_softmax");
  expect_close(ops::softmax_backward(gg, on_cuda(y), dim), ops::softmax_backward(g, y, dim), tol,
               tol, what + " softmax_backward");
  expect_close(ops::log_softmax_backward(gg, on_cuda(ly), dim),
               ops::log_softmax_backward(g, ly, dim), tol, tol, what + " log_softmax_backward");
}

TEST(CudaSoftmax, VocabularyRowsShortRowsAndMiddleDims) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(1);
  expect_softmax_match(randn({4, 50257}, DType::f32, &gen) * 3.0, -1, 1e-5, "(4, 50257)");
  expect_softmax_match(randn({4096, 65}, DType::f32, &gen), 1, 1e-5, "(4096, 65)");
  expect_softmax_match(randn({3, 2000}, DType::f64, &gen), 1, 1e-12, "(3, 2000) f64");
  expect_softmax_match(randn({3, 700, 5}, DType::f32, &gen), 1, 1e-5, "(3, 700, 5) dim 1");
  expect_softmax_match(randn({64, 8, 33}, DType::f32, &gen), 0, 1e-5, "(64, 8, 33) dim 0");
}

TEST(CudaSoftmax, HalfPrecisionComputesInFloat) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(2);
  expect_softmax_match(randn({16, 50257}, DType::f32, &gen).to(DType::f16), -1, 2e-3, "f16");
  expect_softmax_match(randn({16, 300}, DType::f32, &gen).to(DType::bf16), -1, 1e-2, "bf16");
}

TEST(CudaSoftmax, InfiniteEntries) {
  DLT_SKIP_WITHOUT_CUDA();
  const float inf = std::numeric_limits<float>::infinity();
  // A row with masked (-inf) entries, as causal attention makes them.
  const Tensor x = from_vector<float>({1, -inf, 2, -inf, 0, 0, -inf, 3}, {2, 4});
  expect_close(softmax(on_cuda(x), 1), softmax(x, 1), 1e-6, 1e-7, "softmax");
  expect_close(log_softmax(on_cuda(x), 1), log_softmax(x, 1), 1e-6, 1e-7, "log_softmax");
}

// Targets with every class index, some ignore_index entries.
Tensor targets(const Shape& shape, int64_t classes, Generator& gen, int64_t ignore_index) {
  std::vector<int64_t> t = to_vector<int64_t>(randint(0, classes, shape, DType::i64, &gen));
  for (size_t i = 0; i < t.size(); i += 5) t[i] = ignore_index;
  return from_vector(t, shape);
}

void expect_cross_entropy_match(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                                double smoothing, double tol, const std::string& what) {
  const Tensor gl = on_cuda(logits), gt = on_cuda(target);
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
    const std::string w = what + " reduction " + std::to_string(int(r));
    const Tensor loss = cross_entropy(logits, target, ignore_index, smoothing, r);
    expect_close(cross_entropy(gl, gt, ignore_index, smoothing, r), loss, tol, tol, w);
    Generator gen(4);
    const Tensor grad = r == Reduction::none
                            ? rand(loss.shape(), DType::f32, &gen).to(logits.dtype())
                            : full({}, 0.75, logits.dtype());
    const ops::CrossEntropyAttrs attrs{ignore_index, smoothing, r};
    expect_close(ops::cross_entropy_backward(on_cuda(grad), gl, gt, attrs),
                 ops::cross_entropy_backward(grad, logits, target, attrs), tol, tol,
                 w + " backward");
    if (smoothing != 0) continue;
    const Tensor lp = log_softmax(logits, 1);
    expect_close(nll_loss(on_cuda(lp), gt, ignore_index, r), nll_loss(lp, target, ignore_index, r),
                 tol, tol, w + " nll_loss");
    const ops::NllAttrs nll{ignore_index, r};
    expect_close(ops::nll_loss_backward(on_cuda(grad), gt, lp.shape(), lp.dtype(), nll),
                 ops::nll_loss_backward(grad, target, lp.shape(), lp.dtype(), nll), tol, tol,
                 w + " nll_loss_backward");
  }
}

TEST(CudaCrossEntropy, VocabularySizedRows) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(5);
  const Tensor logits = randn({8, 50257}, DType::f32, &gen) * 2.0;
  const Tensor target = targets({8}, 50257, gen, -100);
  expect_cross_entropy_match(logits, target, -100, 0.0, 1e-5, "(8, 50257)");
  expect_cross_entropy_match(logits, target, -100, 0.1, 1e-5, "(8, 50257) smoothing 0.1");
}

TEST(CudaCrossEntropy, ManyRowsSpatialDimsAndIgnoreIndex) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(6);
  const Tensor many = randn({5000, 40}, DType::f32, &gen);
  expect_cross_entropy_match(many, targets({5000}, 40, gen, 3), 3, 0.0, 1e-5, "(5000, 40)");
  const Tensor spatial = randn({4, 10, 6, 7}, DType::f64, &gen);
  expect_cross_entropy_match(spatial, targets({4, 6, 7}, 10, gen, -1), -1, 0.2, 1e-10,
                             "(4, 10, 6, 7)");
  const Tensor unbatched = randn({1500}, DType::f32, &gen);
  expect_cross_entropy_match(unbatched, from_vector<int64_t>({42}, {}), -100, 0.0, 1e-5,
                             "unbatched");
}

TEST(CudaCrossEntropy, HalfPrecision) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(7);
  const Tensor logits = randn({32, 3000}, DType::f32, &gen).to(DType::bf16);
  expect_cross_entropy_match(logits, targets({32}, 3000, gen, -100), -100, 0.0, 1e-2, "bf16");
}

TEST(CudaCrossEntropy, OutOfRangeTargetIsAnError) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor logits = on_cuda(zeros({3, 5}));
  const Tensor target = on_cuda(from_vector<int64_t>({1, 7, 2}, {3}));
  expect_error([&] { cross_entropy(logits, target); },
               {"cross_entropy", "target 7 is out of bounds for 5 classes", "position 1"});
  expect_error([&] { nll_loss(logits, target); }, {"nll_loss", "target 7"});
}

}  // namespace
}  // namespace dlt::testing
