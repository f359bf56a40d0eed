// What the op table cannot see: batch_norm's running statistics, that the
// accumulating kernels (layer_norm, batch_norm, embedding, index_add,
// scatter_add) give bit-identical results for any thread count, and inputs
// without elements.
#include <cmath>

#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// Runs f with 1, 2 and 3 threads; every run must return the same values.
template <class F> void expect_thread_count_independent(F f) {
  ThreadCountGuard restore;
  set_num_threads(1);
  const std::vector<std::vector<double>> reference = f();
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    const std::vector<std::vector<double>> got = f();
    ASSERT_EQ(got.size(), reference.size());
    for (size_t k = 0; k < got.size(); ++k)
      EXPECT_EQ(got[k], reference[k]) << "result " << k << " with " << threads << " threads";
  }
}

TEST(BatchNorm, TrainingUpdatesRunningStatisticsLikeTorch) {
  Generator gen(1);
  const int64_t B = 4, C = 3, S = 5;
  const Tensor x = randn({B, C, S}, DType::f64, &gen);
  Tensor running_mean = full({C}, 0.5, DType::f64), running_var = full({C}, 2.0, DType::f64);
  const uint32_t version = running_mean.version();
  const double momentum = 0.3;
  batch_norm(x, running_mean, running_var, Tensor(), Tensor(), true, momentum);
  EXPECT_GT(running_mean.version(), version) << "in-place update must bump the version";

  const std::vector<double> xs = to_vector<double>(x);
  const std::vector<double> rm = to_vector<double>(running_mean), rv = to_vector<double>(running_var);
  const double n = double(B * S);
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0, sq = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s) sum += xs[size_t((b * C + c) * S + s)];
    const double mean = sum / n;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s) sq += std::pow(xs[size_t((b * C + c) * S + s)] - mean, 2);
    const double unbiased = sq / (n - 1);  // torch moves the running variance with this
    EXPECT_NEAR(rm[size_t(c)], (1 - momentum) * 0.5 + momentum * mean, 1e-12);
    EXPECT_NEAR(rv[size_t(c)], (1 - momentum) * 2.0 + momentum * unbiased, 1e-12);
  }
}

TEST(BatchNorm, EvalUsesRunningStatisticsAndLeavesThemAlone) {
  const Tensor x = from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  const Tensor rm = from_vector<float>({1, 2}, {2}), rv = from_vector<float>({4, 16}, {2});
  const uint32_t version = rm.version();
  const std::vector<float> y = to_vector<float>(batch_norm(x, rm, rv, Tensor(), Tensor(), false, 0.1, 0));
  const std::vector<float> expected = {0, 0, 1, 0.5f, 2, 1};  // (x - mean) / sqrt(var)
  EXPECT_EQ(y, expected);
  EXPECT_EQ(rm.version(), version);
  EXPECT_EQ(to_vector<float>(rm), (std::vector<float>{1, 2}));
}

TEST(BatchNorm, HalfInputWithFloatRunningStatistics) {
  Generator gen(2);
  const Tensor x = randn({8, 2, 3}, {}, &gen);
  Tensor rm32 = zeros({2}), rv32 = ones({2});
  Tensor rm16 = zeros({2}), rv16 = ones({2});
  const Tensor y32 = batch_norm(x, rm32, rv32, Tensor(), Tensor(), true);
  const Tensor y16 = batch_norm(x.to(DType::f16), rm16, rv16, Tensor(), Tensor(), true);
  EXPECT_TRUE(compare_close(to_vector<double>(y16), to_vector<double>(y32), 2e-3, 2e-3).empty());
  EXPECT_TRUE(compare_close(to_vector<double>(rm16), to_vector<double>(rm32), 1e-3, 1e-4).empty());
}

TEST(Determinism, LayerNormBackward) {
  Generator gen(3);
  const Tensor x0 = randn({513, 96}, {}, &gen), w0 = randn({96}, {}, &gen),
               b0 = randn({96}, {}, &gen), up = randn({513, 96}, {}, &gen);
  expect_thread_count_independent([&] {
    Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true),
           b = b0.detach().requires_grad_(true);
    const Tensor y = layer_norm(x, {96}, w, b);
    y.backward(up);
    return std::vector<std::vector<double>>{to_vector<double>(y), to_vector<double>(x.grad()),
                                            to_vector<double>(w.grad()), to_vector<double>(b.grad())};
  });
}

TEST(Determinism, BatchNormForwardAndBackward) {
  Generator gen(4);
  for (const Shape& shape : {Shape{700, 40}, Shape{16, 4, 30, 30}}) {
    const int64_t C = shape[1];
    const Tensor x0 = randn(shape, {}, &gen), w0 = randn({C}, {}, &gen), up = randn(shape, {}, &gen);
    expect_thread_count_independent([&] {
      Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
      Tensor rm = zeros({C}), rv = ones({C});
      const Tensor y = batch_norm(x, rm, rv, w, Tensor(), true);
      y.backward(up);
      return std::vector<std::vector<double>>{to_vector<double>(y), to_vector<double>(x.grad()),
                                              to_vector<double>(w.grad()), to_vector<double>(rm),
                                              to_vector<double>(rv)};
    });
  }
}

TEST(Determinism, EmbeddingBackwardWithManyRepeats) {
  Generator gen(5);
  const Tensor w0 = randn({50, 64}, {}, &gen);
  const Tensor indices = randint(0, 50, {4000}, DType::i64, &gen);
  const Tensor up = randn({4000, 64}, {}, &gen);
  expect_thread_count_independent([&] {
    Tensor w = w0.detach().requires_grad_(true);
    embedding(w, indices, 7).backward(up);
    return std::vector<std::vector<double>>{to_vector<double>(w.grad())};
  });
}

TEST(Determinism, IndexAddAndScatterAdd) {
  Generator gen(6);
  const Tensor x = randn({40, 900}, {}, &gen);
  const Tensor rows = randint(0, 40, {300}, DType::i64, &gen);
  const Tensor src_rows = randn({300, 900}, {}, &gen);
  const Tensor index = randint(0, 40, {200, 900}, DType::i64, &gen);
  const Tensor src = randn({200, 900}, {}, &gen);
  expect_thread_count_independent([&] {
    return std::vector<std::vector<double>>{to_vector<double>(index_add(x, 0, rows, src_rows)),
                                            to_vector<double>(scatter_add(x, 0, index, src))};
  });
}

TEST(Embedding, PaddingRowGetsNoGradient) {
  Tensor w = ones({4, 3}).requires_grad_(true);
  const Tensor indices = from_vector<int64_t>({1, 2, 2, 3}, {4});
  embedding(w, indices, 2).backward(ones({4, 3}));
  const std::vector<float> expected = {0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1};
  EXPECT_EQ(to_vector<float>(w.grad()), expected);
}

TEST(EmptyTensors, NormalisationAndEmbeddingForwardAndBackward) {
  Tensor x = zeros({0, 8}).requires_grad_(true), w = ones({8}).requires_grad_(true);
  layer_norm(x, {8}, w).backward(zeros({0, 8}));
  EXPECT_EQ(x.grad().shape(), (Shape{0, 8}));
  EXPECT_EQ(to_vector<float>(w.grad()), std::vector<float>(8, 0.0f));

  Tensor xb = zeros({0, 3, 2}).requires_grad_(true), wb = ones({3}).requires_grad_(true);
  batch_norm(xb, zeros({3}), ones({3}), wb, Tensor(), false).backward(zeros({0, 3, 2}));
  EXPECT_EQ(to_vector<float>(wb.grad()), std::vector<float>(3, 0.0f));

  Tensor table = ones({5, 2}).requires_grad_(true);
  const Tensor none = from_vector<int64_t>({}, {0});
  const Tensor rows = embedding(table, none);
  EXPECT_EQ(rows.shape(), (Shape{0, 2}));
  rows.backward(zeros({0, 2}));
  EXPECT_EQ(to_vector<float>(table.grad()), std::vector<float>(10, 0.0f));
}

TEST(EmptyTensors, ShapeAndIndexOps) {
  const Tensor x = ones({4, 3});
  const Tensor none = from_vector<int64_t>({}, {0});
  EXPECT_EQ(index_select(x, 0, none).shape(), (Shape{0, 3}));
  EXPECT_EQ(gather(x, 0, from_vector<int64_t>({}, {0, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(to_vector<float>(scatter_add(x, 0, from_vector<int64_t>({}, {0, 3}), zeros({0, 3}))),
            to_vector<float>(x));
  EXPECT_EQ(cat({zeros({0, 3}), x}, 0).shape(), (Shape{4, 3}));
  EXPECT_EQ(one_hot(none, 3).shape(), (Shape{0, 3}));
  EXPECT_EQ(tril(zeros({2, 0, 3})).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(split(zeros({0, 2}), 3).size(), 1u);
  EXPECT_EQ(chunk(zeros({0, 2}), 3).size(), 3u);
}

}  // namespace
}  // namespace dlt::testing
