// small_gemm: C (M x N) = or += A (M x K) B (K x N) in float. B and C are
// row-major with leading dimensions, N a multiple of kSmallGemmPad (callers
// pad with zeros); A is read one element at a time through two strides, so a
// transposed A needs no copy.
// For the many small products inside one fused kernel (a head's T x D by
// D x T in attention), where a library GEMM's per-call overhead would exceed
// the work. Register tiles of rows x vectors; each A element is broadcast
// against a row of B. Summation over K runs in order, so results depend only
// on the shapes, never on the thread count.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_namespace.h"
#include "kernels/cpu/vec.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

inline constexpr int64_t kSmallGemmPad = 16;

namespace small_gemm_detail {

using vec::Float;
using vec::fma;
using vec::kLanes;
using vec::load;
using vec::store;
// Accumulators: 4 x 4 or 8 x 2 vectors with 32 registers, 4 x 2 with 16.
inline constexpr int kCols = vec::kRegisters >= 32 ? 4 : 2;

// One R x (V * kLanes) tile of C.
template <int R, int V>
inline void tile(const float* a, int64_t rs, int64_t cs, const float* b, int64_t ldb, float* c,
                 int64_t ldc, int64_t k, bool accumulate) {
  Float acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = accumulate ? load(c + r * ldc + v * kLanes) : Float{};
  for (int64_t p = 0; p < k; ++p) {
    Float bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) bv[v] = load(b + p * ldb + v * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const Float ar = vec::splat(a[r * rs + p * cs]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] = fma(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) store(c + r * ldc + v * kLanes, acc[r][v]);
}

// The last `rows` < R rows in one tile of their height: as single rows, each
// would run V dependent chains of FMAs, too few to hide their latency.
template <int R, int V>
inline void last_rows(int64_t rows, const float* a, int64_t rs, int64_t cs, const float* b,
                      int64_t ldb, float* c, int64_t ldc, int64_t k, bool accumulate) {
  if constexpr (R > 1) {
    if (rows == R - 1) return tile<R - 1, V>(a, rs, cs, b, ldb, c, ldc, k, accumulate);
    last_rows<R - 1, V>(rows, a, rs, cs, b, ldb, c, ldc, k, accumulate);
  }
}

// Columns [n0, n0 + V * kLanes) of every row: tiles of R rows, then one of the rest.
template <int R, int V>
inline void column_block(int64_t m, const float* a, int64_t rs, int64_t cs, const float* b,
                         int64_t ldb, float* c, int64_t ldc, int64_t k, bool accumulate) {
  int64_t i = 0;
  for (; i + R <= m; i += R)
    tile<R, V>(a + i * rs, rs, cs, b, ldb, c + i * ldc, ldc, k, accumulate);
  if (i < m) last_rows<R, V>(m - i, a + i * rs, rs, cs, b, ldb, c + i * ldc, ldc, k, accumulate);
}

}  // namespace small_gemm_detail

// A's element (i, p) at a.data[i * a.row_stride + p * a.col_stride].
struct GemmA {
  const float* data;
  int64_t row_stride, col_stride = 1;
};

inline void small_gemm(int64_t m, int64_t n, int64_t k, GemmA a, const float* b, int64_t ldb,
                       float* c, int64_t ldc, bool accumulate) {
  using namespace small_gemm_detail;
  const float* ad = a.data;
  const int64_t rs = a.row_stride, cs = a.col_stride;
  constexpr int64_t wide = kCols * kLanes;
  int64_t j = 0;
  for (; j + wide <= n; j += wide)
    column_block<4, kCols>(m, ad, rs, cs, b + j, ldb, c + j, ldc, k, accumulate);
  if constexpr (kCols > 2)
    for (; j + 2 * kLanes <= n; j += 2 * kLanes)
      column_block<8, 2>(m, ad, rs, cs, b + j, ldb, c + j, ldc, k, accumulate);
  for (; j < n; j += kLanes)  // narrow tiles, taller to keep the FMA units busy
    column_block<8, 1>(m, ad, rs, cs, b + j, ldb, c + j, ldc, k, accumulate);
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
