// Indexing and shape kernels on cuda against the CPU's, including the
// accumulating ones (atomics; f16 accumulates in float) and bad indices,
// which must raise the CPU's errors.
#include "dlt/ops/norm_backward.h"
#include "tests/cuda/cuda_test_util.h"

namespace dlt::testing {
namespace {

using CudaIndex = CudaTest;

Tensor indices(std::vector<int64_t> v, DType t = DType::i64) {
  return from_blob(v.data(), {int64_t(v.size())}, DType::i64).to(t);
}

TEST_F(CudaIndex, EmbeddingForwardAndBackward) {
  Generator g(21);
  const Tensor w = uniform({10, 6}, -1, 1, {}, &g);
  for (const DType it : {DType::i32, DType::i64}) {
    const Tensor idx = indices({3, 0, 9, 3, 3, 7}, it);
    expect_close(embedding(w, idx), embedding(on_cuda(w), on_cuda(idx)), 0, 0);
    const Tensor grad = uniform({6, 6}, -1, 1, {}, &g);
    expect_close(ops::embedding_backward(grad, idx, 10, 3),
                 ops::embedding_backward(on_cuda(grad), on_cuda(idx), 10, 3), 1e-6, 1e-7);
    expect_close(ops::embedding_backward(grad.to(DType::f16), idx, 10, -1),
                 ops::embedding_backward(on_cuda(grad).to(DType::f16), on_cuda(idx), 10, -1),
                 1e-3, 1e-3);
  }
  expect_error([&] { embedding(on_cuda(w), on_cuda(indices({1, 10}))); },
               {"embedding", "index 10", "position 1"});
}

TEST_F(CudaIndex, IndexSelectAndIndexAdd) {
  Generator g(22);
  const Tensor x = uniform({4, 5, 3}, -1, 1, {}, &g);
  const Tensor idx = indices({4, 0, 4, 2});
  expect_close(index_select(x, 1, idx), index_select(on_cuda(x), 1, on_cuda(idx)), 0, 0);
  const Tensor src = uniform({4, 4, 3}, -1, 1, {}, &g);
  expect_close(index_add(x, 1, idx, src), index_add(on_cuda(x), 1, on_cuda(idx), on_cuda(src)),
               1e-6, 1e-7);
  const Tensor xi = randint(0, 9, {4, 5, 3}, DType::u8, &g);
  const Tensor si = randint(0, 9, {4, 4, 3}, DType::u8, &g);
  expect_close(index_add(xi, 1, idx, si), index_add(on_cuda(xi), 1, on_cuda(idx), on_cuda(si)),
               0, 0);
  expect_close(index_add(x.to(DType::bf16), 1, idx, src.to(DType::bf16)),
               index_add(on_cuda(x).to(DType::bf16), 1, on_cuda(idx), on_cuda(src).to(DType::bf16)),
               1e-2, 1e-2);
  expect_error([&] { index_select(on_cuda(x), 0, on_cuda(indices({0, -1}))); },
               {"index_select", "index -1", "position 1", "size 4"});
}

TEST_F(CudaIndex, GatherFromStridedInputAndScatterAdd) {
  Generator g(23);
  const Tensor x = uniform({6, 5}, -1, 1, {}, &g).t();  // (5, 6), strided
  const Tensor idx = randint(0, 5, {3, 6}, DType::i64, &g);
  expect_close(gather(x, 0, idx), gather(on_cuda(x), 0, on_cuda(idx)), 0, 0);
  const Tensor base = uniform({5, 6}, -1, 1, {}, &g);
  const Tensor src = uniform({6, 4}, -1, 1, {}, &g).t();  // (4, 6), strided, larger than idx
  expect_close(scatter_add(base, 0, idx, src),
               scatter_add(on_cuda(base), 0, on_cuda(idx), on_cuda(src)), 1e-6, 1e-7);
  const Tensor idx1 = randint(0, 6, {5, 3}, DType::i32, &g);
  expect_close(scatter_add(base, 1, idx1, src.t()),
               scatter_add(on_cuda(base), 1, on_cuda(idx1), on_cuda(src.t())), 1e-6, 1e-7);
  expect_error([&] { gather(on_cuda(x), 1, on_cuda(full({2, 2}, 6, DType::i64))); },
               {"gather", "index 6", "size 6"});
}

TEST_F(CudaIndex, OneHot) {
  const Tensor idx = indices({2, 0, 4, 4});
  expect_close(one_hot(idx, 5), one_hot(on_cuda(idx), 5), 0, 0);
  expect_error([&] { one_hot(on_cuda(indices({1, 5})), 5); }, {"one_hot", "class value 5"});
}

TEST_F(CudaIndex, TriangleMasksAndCat) {
  Generator g(24);
  const Tensor x = uniform({2, 5, 7}, -1, 1, {}, &g);
  for (const int64_t d : {-100, -2, 0, 3, 100}) {
    expect_close(tril(x, d), tril(on_cuda(x), d), 0, 0);
    expect_close(triu(x, d), triu(on_cuda(x), d), 0, 0);
  }
  const Tensor a = uniform({2, 3, 4}, -1, 1, {}, &g), b = uniform({2, 1, 4}, -1, 1, {}, &g);
  const Tensor e = zeros({2, 0, 4});
  expect_close(cat({a, b, e, a}, 1), cat({on_cuda(a), on_cuda(b), on_cuda(e), on_cuda(a)}, 1), 0,
               0);
  expect_close(cat({a.to(DType::f16), b.to(DType::f16)}, 1),
               cat({on_cuda(a).to(DType::f16), on_cuda(b).to(DType::f16)}, 1), 0, 0);
  expect_close(cat({a, a}, 2), cat({on_cuda(a), on_cuda(a)}, 2), 0, 0);
}

}  // namespace
}  // namespace dlt::testing
