// The CUDA a kernel source uses (tensor cores included), emulated on the CPU
// so its logic (addressing, masks, barriers, shared-memory layout) runs
// without a GPU: a block's threads are std::threads, one block at a time,
// with std::barrier for __syncthreads and __syncwarp; a wmma fragment holds its whole matrix in
// every lane, and mma_sync multiplies in float. What it cannot check is the
// hardware's own: ldm and alignment rules, register pressure, timing.
//
// Include before the kernel header; compile as C++ (g++), with the CUDA
// toolkit's headers for __half and __nv_bfloat16.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>  // exp2f, log2f, fmaxf in the global namespace, as in device code

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace dlt::emulated {

struct Index {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local Index thread_index, block_index;
inline Index block_dim;  // the launch's, for every thread

inline constexpr int kMaxWarps = 32;
struct Block {
  std::barrier<> all;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  float lanes[kMaxWarps][32];  // __shfl_xor_sync's exchange
  explicit Block(int threads) : all(threads) {
    for (int w = 0; w < threads / 32; ++w) warps.push_back(std::make_unique<std::barrier<>>(32));
  }
};
inline Block* current_block = nullptr;

inline void sync_warp() { current_block->warps[thread_index.x / 32]->arrive_and_wait(); }

// Runs kernel(args...) for every block of the grid in turn, `threads` a block
// (a multiple of 32), after filling `shared` with NaN bytes.
template <class Kernel, class... Args>
void launch(unsigned grid, int threads, unsigned char* shared, size_t shared_bytes, Kernel kernel,
            Args... args) {
  block_dim = {unsigned(threads), 1, 1};
  for (unsigned b = 0; b < grid; ++b) {
    Block block(threads);
    current_block = &block;
    std::memset(shared, 0xff, shared_bytes);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        thread_index.x = unsigned(t);
        block_index.x = b;
        kernel(args...);
      });
    for (auto& t : pool) t.join();
  }
  current_block = nullptr;
}

}  // namespace dlt::emulated

#undef __shared__
#undef __align__
#undef __launch_bounds__
#define __shared__
#define __align__(n)
#define __launch_bounds__(n)
#define threadIdx (::dlt::emulated::thread_index)
#define blockIdx (::dlt::emulated::block_index)
#define blockDim (::dlt::emulated::block_dim)
#define __syncthreads() (::dlt::emulated::current_block->all.arrive_and_wait())
#define __syncwarp() (::dlt::emulated::sync_warp())

inline float __shfl_xor_sync(unsigned, float x, int offset) {
  auto& lanes = ::dlt::emulated::current_block->lanes[threadIdx.x / 32];
  const unsigned lane = threadIdx.x % 32;
  lanes[lane] = x;
  __syncwarp();
  const float y = lanes[lane ^ unsigned(offset)];
  __syncwarp();
  return y;
}
using std::max;
using std::min;

namespace nvcuda::wmma {

struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

// The whole rows x cols matrix, row-major, in every lane.
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment {
  static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;
  static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
  static constexpr int num_elements = rows * cols;
  using element_type = std::conditional_t<std::is_same_v<T, precision::tf32>, float, T>;
  element_type x[rows * cols];
  float at(int r, int c) const { return float(x[r * cols + c]); }
};

// Rounds to TF32's 10 mantissa bits, to nearest.
inline float __float_to_tf32(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits = (bits + 0x1000u) & ~0x1fffu;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class Use, int M, int N, int K, class T, class Layout, class S>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const S* p, unsigned ldm) {
  using Frag = fragment<Use, M, N, K, T, Layout>;
  for (int r = 0; r < Frag::rows; ++r)
    for (int c = 0; c < Frag::cols; ++c)
      f.x[r * Frag::cols + c] = std::is_same_v<Layout, col_major> ? p[c * ldm + r] : p[r * ldm + c];
  __syncwarp();
}

template <int M, int N, int K>
void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm,
                      layout_t layout) {
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) f.x[r * N + c] = layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r];
  __syncwarp();
}

// Lane 0 writes: every lane holds the same values.
template <int M, int N, int K>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm,
                       layout_t layout) {
  __syncwarp();
  if (threadIdx.x % 32 == 0)
    for (int r = 0; r < M; ++r)
      for (int c = 0; c < N; ++c) (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[r * N + c];
  __syncwarp();
}

template <class Frag> void fill_fragment(Frag& f, float v) {
  for (auto& e : f.x) e = v;
}

template <int M, int N, int K, class T, class LA, class LB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LA>& a,
              const fragment<matrix_b, M, N, K, T, LB>& b,
              const fragment<accumulator, M, N, K, float>& c) {
  fragment<accumulator, M, N, K, float> out;
  for (int r = 0; r < M; ++r)
    for (int n = 0; n < N; ++n) {
      float s = c.x[r * N + n];
      for (int k = 0; k < K; ++k) s += a.at(r, k) * b.at(k, n);
      out.x[r * N + n] = s;
    }
  d = out;
  __syncwarp();
}

}  // namespace nvcuda::wmma
