// The shape math of the GPU's matmul and linear (host only, no CUDA): both
// become one canonical batched GEMM, as on the CPU,
//   C[batch] = A[batch] (M, K) @ B[batch] (K, N) (+ bias (N)),  C contiguous,
// with size-1 batch dims dropped, mergeable batch dims merged, and batches
// that share B folded into M (a (B, T, C) @ (C, D) is one (B*T, C) GEMM).
// Then the row-major problem is read column-major, as BLAS wants it:
//   C^T (N, M) = op(B) (N, K) @ op(A) (K, M),
// each operand either as stored (ld = its row stride) or transposed (ld = its
// column stride), so transposed views need no copy.
#pragma once

#include <array>
#include <cstdint>

#include "dlt/core/shape.h"

namespace dlt::gpu {

// An operand (batch..., rows, cols) with element strides.
struct MatrixView {
  Shape shape, strides;
};

// One BLAS operand: the stored column-major matrix and whether BLAS
// transposes it. `ld` is its leading dimension in elements.
struct BlasOperand {
  bool transpose = false;
  int64_t ld = 1;
};

struct GemmPlan {
  int64_t m = 0, k = 0, n = 0;
  Shape batch;                        // merged batch dims, possibly none
  Shape a_batch, b_batch, c_batch;    // per batch dim strides; 0 = broadcast
  int64_t a_rs = 0, a_cs = 0, b_rs = 0, b_cs = 0;
  BlasOperand blas_a, blas_b;         // BLAS's A is our B, BLAS's B is our A
};

// matmul's vector operands: a left (K) is a row (1, K), a right (K) a column (K, 1).
inline MatrixView lhs_view(const Shape& shape, const Shape& strides) {
  if (shape.size() != 1) return {shape, strides};
  return {{1, shape[0]}, {shape[0] * strides[0], strides[0]}};
}
inline MatrixView rhs_view(const Shape& shape, const Shape& strides) {
  if (shape.size() != 1) return {shape, strides};
  return {{shape[0], 1}, {strides[0], 1}};
}
// linear's weight (out, in) read as its transpose (in, out).
inline MatrixView transposed_view(const Shape& shape, const Shape& strides) {
  return {{shape[1], shape[0]}, {strides[1], strides[0]}};
}

// Strides of a size-1 dim are arbitrary; make them describe a plain row- or
// column-major matrix with a valid leading dimension.
inline void tidy_matrix_strides(int64_t rows, int64_t cols, int64_t& rs, int64_t& cs) {
  if (cols == 1) cs = 1;
  if (rows == 1) rs = cs == 1 ? cols : 1;
}

// The operand as BLAS reads it: row-major (unit column stride) is BLAS's
// column-major transpose, stored as is; column-major needs op = T.
inline BlasOperand blas_operand(int64_t rs, int64_t cs) {
  if (cs == 1) return {false, rs};
  return {true, cs};
}

// The op layer guarantees a unit stride in one of the last two dims of each
// operand (ops/linalg.cpp, gemm_readable).
inline GemmPlan plan_gemm(const MatrixView& a, const MatrixView& b) {
  GemmPlan g;
  g.m = a.shape.end()[-2];
  g.k = a.shape.end()[-1];
  g.n = b.shape.end()[-1];
  const Shape a_batch(a.shape.begin(), a.shape.end() - 2), b_batch(b.shape.begin(), b.shape.end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch);
  Shape c_shape = batch;
  c_shape.push_back(g.m);
  c_shape.push_back(g.n);
  const Shape c_strides = contiguous_strides(c_shape);
  const std::array<Shape, 3> strides = {
      broadcast_strides(a_batch, Shape(a.strides.begin(), a.strides.end() - 2), batch),
      broadcast_strides(b_batch, Shape(b.strides.begin(), b.strides.end() - 2), batch),
      Shape(c_strides.begin(), c_strides.end() - 2)};

  std::array<Shape, 3> merged;
  for (size_t d = 0; d < batch.size(); ++d) {
    if (batch[d] == 1) continue;
    bool can_merge = !g.batch.empty();
    for (size_t o = 0; o < 3 && can_merge; ++o)
      can_merge = merged[o].back() == strides[o][d] * batch[d];
    if (can_merge) {
      g.batch.back() *= batch[d];
      for (size_t o = 0; o < 3; ++o) merged[o].back() = strides[o][d];
    } else {
      g.batch.push_back(batch[d]);
      for (size_t o = 0; o < 3; ++o) merged[o].push_back(strides[o][d]);
    }
  }

  g.a_rs = a.strides.end()[-2];
  g.a_cs = a.strides.end()[-1];
  g.b_rs = b.strides.end()[-2];
  g.b_cs = b.strides.end()[-1];
  tidy_matrix_strides(g.m, g.k, g.a_rs, g.a_cs);
  tidy_matrix_strides(g.k, g.n, g.b_rs, g.b_cs);

  // B shared by the innermost batch dim and A's rows continuing evenly across it.
  while (!g.batch.empty() && merged[1].back() == 0 && g.a_cs == 1 &&
         merged[0].back() == g.m * g.a_rs) {
    g.m *= g.batch.back();
    g.batch.pop_back();
    for (auto& s : merged) s.pop_back();
  }
  g.a_batch = merged[0];
  g.b_batch = merged[1];
  g.c_batch = merged[2];
  g.blas_a = blas_operand(g.b_rs, g.b_cs);
  g.blas_b = blas_operand(g.a_rs, g.a_cs);
  return g;
}

}  // namespace dlt::gpu
