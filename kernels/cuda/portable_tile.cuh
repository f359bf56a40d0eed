// The shared-memory tiled GEMM the portable matmul and convolution kernels
// are built on (the HIP build has no rocBLAS/MIOpen on Debian):
//   C[batch] (M, N) = A[batch] (M, K) @ B[batch] (K, N),
// where A, B and C are accessors, not arrays, so a convolution can read its
// input as an implicit im2col matrix without materialising it.
//
// Accessor protocol (all __device__):
//   a.bind(batch) -> view with view(row, col) returning Acc   (A: M x K, B: K x N)
//   a.k_contiguous: true when consecutive K indices are adjacent in memory,
//                   so tile loads walk K fastest (coalesced); else M (or N)
//   c.bind(batch) -> view with view.store(row, col, Acc value)
// Each block computes one kTileM x kTileN tile of one batch entry; each of
// its 256 threads owns a 4 x 4 strided sub-block of it, accumulated in Acc
// (float for f16/bf16/f32, double for f64) in a fixed K order.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/gpu.h"

namespace dlt::gpu::portable {

inline constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
inline constexpr int kThreadsX = 16, kThreadsY = 16, kThreads = kThreadsX * kThreadsY;
inline constexpr int kPerThread = kTileM / kThreadsY;  // 4 rows and 4 columns per thread
static_assert(kTileM == kTileN && kTileM % kThreadsY == 0);
static_assert((kTileM * kTileK) % kThreads == 0);

struct GemmSize {
  int64_t m, n, k, batches;
};

// Loads a (rows x kTileK) slice of an M x K operand (or, with transposed
// indexing, the K x N one) into tile[kk][r]. Out-of-range elements are 0.
template <class Acc, bool kIsA, class View>
__device__ inline void load_tile(Acc (*tile)[kTileM + 1], const View& view, bool k_contiguous,
                                 int64_t row0, int64_t rows, int64_t k0, int64_t k) {
  const int tid = threadIdx.y * kThreadsX + threadIdx.x;
  for (int e = tid; e < kTileM * kTileK; e += kThreads) {
    // Walk K fastest when K is the contiguous direction, the rows otherwise.
    const int kk = k_contiguous ? e % kTileK : e / kTileM;
    const int r = k_contiguous ? e / kTileK : e % kTileM;
    const int64_t gr = row0 + r, gk = k0 + kk;
    Acc v = Acc(0);
    if (gr < rows && gk < k) v = kIsA ? view(gr, gk) : view(gk, gr);
    tile[kk][r] = v;
  }
}

template <class Acc, class A, class B, class C>
__global__ void __launch_bounds__(kThreads)
    tiled_gemm_kernel(GemmSize size, int64_t tiles_n, A a, B b, C c) {
  __shared__ Acc a_tile[kTileK][kTileM + 1];  // +1: fewer bank conflicts on K-fast stores
  __shared__ Acc b_tile[kTileK][kTileN + 1];
  const int64_t row0 = int64_t(blockIdx.x / tiles_n) * kTileM;
  const int64_t col0 = int64_t(blockIdx.x % tiles_n) * kTileN;
  const int tx = threadIdx.x, ty = threadIdx.y;

  for (int64_t batch = blockIdx.y; batch < size.batches; batch += gridDim.y) {
    const auto av = a.bind(batch);
    const auto bv = b.bind(batch);
    Acc acc[kPerThread][kPerThread] = {};
    for (int64_t k0 = 0; k0 < size.k; k0 += kTileK) {
      load_tile<Acc, true>(a_tile, av, a.k_contiguous, row0, size.m, k0, size.k);
      load_tile<Acc, false>(b_tile, bv, b.k_contiguous, col0, size.n, k0, size.k);
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) {
        Acc ar[kPerThread], br[kPerThread];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i) ar[i] = a_tile[kk][ty + i * kThreadsY];
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) br[j] = b_tile[kk][tx + j * kThreadsX];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i)
#pragma unroll
          for (int j = 0; j < kPerThread; ++j) acc[i][j] += ar[i] * br[j];
      }
      __syncthreads();
    }
    const auto cv = c.bind(batch);
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int64_t r = row0 + ty + i * kThreadsY;
      if (r >= size.m) continue;
#pragma unroll
      for (int j = 0; j < kPerThread; ++j) {
        const int64_t col = col0 + tx + j * kThreadsX;
        if (col < size.n) cv.store(r, col, acc[i][j]);
      }
    }
  }
}

// Launches the tiled GEMM on `stream`; nothing to do for an empty output.
template <class Acc, class A, class B, class C>
void launch_tiled_gemm(GemmSize size, const A& a, const B& b, const C& c, cudaStream_t stream) {
  if (size.m <= 0 || size.n <= 0 || size.batches <= 0) return;
  const int64_t tiles_m = (size.m + kTileM - 1) / kTileM;
  const int64_t tiles_n = (size.n + kTileN - 1) / kTileN;
  const dim3 grid(unsigned(tiles_m * tiles_n), unsigned(std::min<int64_t>(size.batches, 65535)));
  tiled_gemm_kernel<Acc><<<grid, dim3(kThreadsX, kThreadsY), 0, stream>>>(size, tiles_n, a, b, c);
  DLT_GPU_CHECK_LAUNCH();
}

}  // namespace dlt::gpu::portable
