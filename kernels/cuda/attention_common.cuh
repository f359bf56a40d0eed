// What the fused causal attention's two kernel families share: the FMA
// kernels (attention.cu) and the tensor-core kernels (attention_mma.cu).
// Operand addressing, the problem's sizes, which (head, tile) a block owns,
// and launch helpers. Scores are kept in base 2 (scale * log2 e folded in) so
// each weight is one exp2.
#pragma once

#include <cstdint>

#include "kernels/cuda/tensor_arg.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu::attention {

inline constexpr double kLog2e = 1.4426950408889634074;
inline constexpr double kLn2 = 0.69314718055994530942;

// A (B, H, T, D) operand: base pointer and strides of B, H and T in elements.
struct Heads {
  void* data;
  int64_t sb, sh, st;
};

inline Heads heads_of(const TensorArg& t) {
  return {t.data, t.strides[0], t.strides[1], t.strides[2]};
}

struct Problem {
  int64_t batch_heads, heads;  // B * H, H (query heads)
  int64_t group;               // query heads per key/value head (grouped-query attention)
  int len, dim;                // T, D (D <= the kernel's padded D)
  float scale2_f;              // scale * log2 e
  double scale2, scale;
};

inline Problem problem_of(const TensorArg& q, const TensorArg& k, double scale) {
  Problem p;
  p.batch_heads = q.shape[0] * q.shape[1];
  p.heads = q.shape[1];
  p.group = q.shape[1] / k.shape[1];
  p.len = int(q.shape[2]);
  p.dim = int(q.shape[3]);
  p.scale = scale;
  p.scale2 = scale * kLog2e;
  p.scale2_f = float(p.scale2);
  return p;
}

template <class A> __device__ inline A infinity() { return A(__builtin_huge_valf()); }
template <class A> __device__ inline A exp2_of(A x) {
  if constexpr (sizeof(A) == 4) return exp2f(x);
  else return exp2(x);
}
template <class A> __device__ inline A log2_of(A x) {
  if constexpr (sizeof(A) == 4) return log2f(x);
  else return log2(x);
}
template <class A> __device__ inline A scale2_of(const Problem& p) {
  if constexpr (sizeof(A) == 4) return p.scale2_f;
  else return p.scale2;
}

// Max / sum over groups of `Lanes` (a power of two <= 32) adjacent lanes of a
// warp: the lanes that differ only in the low bits of their index.
template <int Lanes, class A> __device__ inline A lanes_max(A x) {
  for (int o = Lanes / 2; o > 0; o >>= 1) x = max(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}
template <int Lanes, class A> __device__ inline A lanes_sum(A x) {
  for (int o = Lanes / 2; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// The block's head and tile; with heavy_last_tile, tiles in decreasing order
// of causal work come first (the last query tiles see the most keys).
struct BlockJob {
  int64_t bh, b, h;
  int tile;
};
__device__ inline BlockJob block_job(const Problem& p, int tiles, bool heavy_last_tile) {
  BlockJob j;
  j.bh = blockIdx.x % p.batch_heads;
  j.b = j.bh / p.heads;
  j.h = j.bh % p.heads;
  const int rank = int(blockIdx.x / p.batch_heads);
  j.tile = heavy_last_tile ? tiles - 1 - rank : rank;
  return j;
}

template <class T> __device__ inline T* head_ptr(const Heads& t, const BlockJob& j) {
  return static_cast<T*>(t.data) + j.b * t.sb + j.h * t.sh;
}
// The key/value head that query head j.h reads: query heads h * group ..
// (h + 1) * group - 1 share key/value head h, which is never repeated in memory.
template <class T>
__device__ inline T* kv_head_ptr(const Heads& t, const BlockJob& j, const Problem& p) {
  return static_cast<T*>(t.data) + j.b * t.sb + j.h / p.group * t.sh;
}

// One block per (head, tile of `tile` rows).
inline unsigned grid_of(const Problem& p, int tile) {
  return unsigned(p.batch_heads * ((p.len + tile - 1) / tile));
}

// The most dynamic shared memory one block may opt into on the current
// device (227 KiB on sm_90, 163 on sm_80, 99 on sm_86/89/120, 64 on AMD's),
// or less under cap_attention_shared_bytes() (attention.cu).
size_t max_shared_bytes();

// Throws, naming the head size and both byte counts, when a block of
// `bytes` does not fit this device (attention.cu).
void check_shared_bytes(size_t bytes, const Problem& p);

template <class Kernel> void allow_shared_memory(Kernel kernel, size_t bytes, const Problem& p) {
  check_shared_bytes(bytes, p);
  DLT_GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     int(bytes)));
}

// Calls f.template operator()<D>() with the smallest padded head size >= dim.
template <class F> void visit_head_dim(int dim, F&& f) {
  if (dim <= 32) f.template operator()<32>();
  else if (dim <= 64) f.template operator()<64>();
  else f.template operator()<128>();
}

}  // namespace dlt::gpu::attention
