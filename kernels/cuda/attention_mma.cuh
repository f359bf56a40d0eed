// The fused causal attention on tensor cores, through CUDA's warp matrix API
// (wmma): float16 and bfloat16 operands in 16 x 16 x 16 fragments, float32 as
// TF32 in 16 x 16 x 8 fragments. Products accumulate in float32 and the
// softmax statistics (running max and sum, lse) stay float32; the weights p
// and their gradients ds are rounded to the operand type before their
// products, as FlashAttention rounds them.
//
// The algorithm and the block jobs are attention.cu's (see there); the tiling
// differs. A block of four warps owns 64 rows (queries in the forward and dq
// kernels, keys in the dk/dv kernel), 16 a warp, and each warp runs its
// 16-row products from shared memory on tensor cores. wmma leaves the
// element layout of a fragment unspecified, so the element-wise steps (mask,
// exp2, ds) read the float32 products back from shared memory, one lane per
// column; the forward's output accumulator lives in shared memory for the
// same reason (the online softmax rescales it by row). dq, dk and dv
// accumulate in fragments across tiles and are staged through shared memory
// on the way out. 16-row blocks wholly above the diagonal are skipped.
//
// Device names used: __shfl_xor_sync, __syncwarp, __syncthreads, exp2f,
// log2f, nvcuda::wmma (CUDA only: DLT_GPU_WMMA). attention_mma.cu launches
// these kernels; tests/emulated runs them on the CPU.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/attention_common.cuh"

#if DLT_GPU_WMMA
namespace dlt::gpu::attention::mma {

namespace wmma = nvcuda::wmma;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kRows = 16 * kWarps;  // the rows a block owns
// Dynamic shared memory a block may opt into on sm_80 (163 KiB); sm_90 allows
// 227, sm_86/89/120 only 99 (use_tensor_cores() asks the device).
constexpr size_t kMaxSharedBytes = 163 * 1024;

// Fragments for operand type T; K is the depth of one mma step.
template <class T> struct Frag {
  static constexpr bool tf32 = std::is_same_v<T, float>;
  static constexpr int K = tf32 ? 8 : 16;
  using Elem = std::conditional_t<tf32, wmma::precision::tf32, T>;
  using A = wmma::fragment<wmma::matrix_a, 16, 16, K, Elem, wmma::row_major>;
  using BRow = wmma::fragment<wmma::matrix_b, 16, 16, K, Elem, wmma::row_major>;
  using BCol = wmma::fragment<wmma::matrix_b, 16, 16, K, Elem, wmma::col_major>;
  using Acc = wmma::fragment<wmma::accumulator, 16, 16, K, float>;

  template <class F> __device__ static void load(F& f, const T* p, int ld) {
    wmma::load_matrix_sync(f, p, unsigned(ld));
    if constexpr (tf32) {
#pragma unroll
      for (int i = 0; i < f.num_elements; ++i) f.x[i] = wmma::__float_to_tf32(f.x[i]);
    }
  }
};

// Row pitch of an n-wide shared tile of E: 16 bytes of padding, which keeps
// wmma's ldm a multiple of 16 bytes and every 16-row offset 32-byte aligned.
template <class E> constexpr int pitch(int n) { return n + 16 / int(sizeof(E)); }

// Keys a forward / dq block takes at a time, queries a dk/dv block takes: 32
// for float32 at D = 128 so the tiles fit in shared memory, 64 otherwise.
template <class T, int D> constexpr int inner_tile() { return sizeof(T) == 4 && D == 128 ? 32 : 64; }

// Rows [t0, t0 + rows) of one head of src into dst (rows x ld); rows past
// len and columns past dim are zero. The whole block takes part.
template <class T, int D>
__device__ void load_tile(T* dst, int ld, const T* src, int64_t st, int t0, int rows,
                          const Problem& p) {
  for (int i = threadIdx.x; i < rows * D; i += kThreads) {
    const int r = i / D, d = i % D, t = t0 + r;
    dst[r * ld + d] = t < p.len && d < p.dim ? src[t * st + d] : convert<T>(0.0f);
  }
}

// acc[j] = a b_j^T for the 16-column blocks j in [j0, j1): a is 16 x DEPTH
// (row-major, lda), b_j rows [16 j, 16 j + 16) of b (row-major, ldb), so
// b^T is read as a column-major matrix.
template <class T, int NJ, int DEPTH>
__device__ void mul_abt(typename Frag<T>::Acc (&acc)[NJ], const T* a, int lda, const T* b,
                        int ldb, int j0, int j1) {
  using F = Frag<T>;
#pragma unroll
  for (int j = 0; j < NJ; ++j) wmma::fill_fragment(acc[j], 0.0f);
#pragma unroll
  for (int kk = 0; kk < DEPTH; kk += F::K) {
    typename F::A af;
    F::load(af, a + kk, lda);
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
      if (j < j0 || j >= j1) continue;  // warp-uniform
      typename F::BCol bf;
      F::load(bf, b + j * 16 * ldb + kk, ldb);
      wmma::mma_sync(acc[j], af, bf, acc[j]);
    }
  }
}

// dst[:, 16 j : 16 j + 16] = a b_j^T (float32, row-major, ldd) for the
// column blocks j in [j0, j1), as mul_abt; other columns are left as they are.
template <class T, int NJ, int DEPTH>
__device__ void products_to_shared(float* dst, int ldd, const T* a, int lda, const T* b, int ldb,
                                   int j0, int j1) {
  typename Frag<T>::Acc acc[NJ];
  mul_abt<T, NJ, DEPTH>(acc, a, lda, b, ldb, j0, j1);
#pragma unroll
  for (int j = 0; j < NJ; ++j)
    if (j >= j0 && j < j1) wmma::store_matrix_sync(dst + 16 * j, acc[j], unsigned(ldd), wmma::mem_row_major);
}

// acc[n] += a[:, k0:k1] b[k0:k1, 16 n : 16 n + 16]: a is 16 rows (row-major,
// lda), b row-major (ldb); k0 and k1 multiples of 16.
template <class T, int NN>
__device__ void mul_ab(typename Frag<T>::Acc (&acc)[NN], const T* a, int lda, const T* b,
                       int ldb, int k0, int k1) {
  using F = Frag<T>;
  for (int kk = k0; kk < k1; kk += F::K) {
    typename F::A af;
    F::load(af, a + kk, lda);
#pragma unroll
    for (int n = 0; n < NN; ++n) {
      typename F::BRow bf;
      F::load(bf, b + kk * ldb + n * 16, ldb);
      wmma::mma_sync(acc[n], af, bf, acc[n]);
    }
  }
}

// The 16-wide column blocks [0, result) of a tile starting at column c0 that
// row `last` (the warp's last row) may see under the causal mask (column <= row).
__device__ inline int blocks_seen(int last, int c0, int tile) {
  return last < c0 ? 0 : min((last - c0) / 16 + 1, tile / 16);
}

// Writes a warp's 16 x D float accumulators (times `factor`) to rows
// [row0, row0 + 16) of dst, through `stage` (16 x pitch<float>(D), the warp's own).
template <class T, int D>
__device__ void write_rows(typename Frag<T>::Acc (&acc)[D / 16], float factor, float* stage,
                           T* dst, int64_t st, int row0, const Problem& p) {
  constexpr int PO = pitch<float>(D);
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int n = 0; n < D / 16; ++n) {
#pragma unroll
    for (int i = 0; i < acc[n].num_elements; ++i) acc[n].x[i] *= factor;
    wmma::store_matrix_sync(stage + n * 16, acc[n], PO, wmma::mem_row_major);
  }
  __syncwarp();
  for (int r = 0; r < 16 && row0 + r < p.len; ++r)
    for (int d = lane; d < p.dim; d += 32) dst[(row0 + r) * st + d] = convert<T>(stage[r * PO + d]);
  __syncwarp();
}

// ---- forward ------------------------------------------------------------------

template <class T, int D, int BK> struct ForwardSmem {
  static constexpr int PT = pitch<T>(D), PS = pitch<float>(BK), PP = pitch<T>(BK),
                       PO = pitch<float>(D);
  static constexpr size_t bytes = sizeof(T) * (kRows * PT + BK * PT + kRows * PP) +
                                  sizeof(float) * (kRows * PS + kRows * PO);
};

template <class T, int D, int BK>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(Heads out, float* lse, Heads q, Heads k, Heads v, Problem p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
#else
  using F = Frag<T>;
  using S = ForwardSmem<T, D, BK>;
  constexpr int PT = S::PT, PS = S::PS, PP = S::PP, PO = S::PO;
  extern __shared__ __align__(128) unsigned char smem[];
  T* qs = reinterpret_cast<T*>(smem);                     // (kRows, PT) the block's queries
  T* kv = qs + kRows * PT;                                 // (BK, PT) a key tile, then its values
  T* ps = kv + BK * PT;                                    // (kRows, PP) the tile's weights
  float* ss = reinterpret_cast<float*>(ps + kRows * PP);   // (kRows, PS) its scores
  float* os = ss + kRows * PS;                             // (kRows, PO) the output accumulator

  const int tiles = (p.len + kRows - 1) / kRows;
  const BlockJob job = block_job(p, tiles, true);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int q0 = job.tile * kRows, r0 = 16 * warp, last = q0 + r0 + 15;
  load_tile<T, D>(qs, PT, head_ptr<const T>(q, job), q.st, q0, kRows, p);
  for (int i = threadIdx.x; i < kRows * PO; i += kThreads) os[i] = 0.0f;

  float m[16], l[16];  // the warp's rows: running max (base 2) and sum, alike in every lane
#pragma unroll
  for (int r = 0; r < 16; ++r) m[r] = -infinity<float>(), l[r] = 0.0f;
  const int key_end = min(p.len, q0 + kRows);
  for (int k0 = 0; k0 < key_end; k0 += BK) {
    const int seen = blocks_seen(last, k0, BK);
    __syncthreads();  // the previous value tile is consumed
    load_tile<T, D>(kv, PT, kv_head_ptr<const T>(k, job, p), k.st, k0, BK, p);
    __syncthreads();
    products_to_shared<T, BK / 16, D>(ss + r0 * PS, PS, qs + r0 * PT, PT, kv, PT, 0, seen);
    __syncwarp();
    // Online softmax, a lane per column. Key 0 is in every row's first tile,
    // so m is finite from then on; blocks not seen hold stale scores, masked here.
#pragma unroll
    for (int r = 0; r < 16; ++r) {
      const int row = q0 + r0 + r;
      float s[BK / 32], mx = m[r];
#pragma unroll
      for (int c = 0; c < BK / 32; ++c) {
        const int col = lane + 32 * c;
        s[c] = k0 + col > row ? -infinity<float>() : ss[(r0 + r) * PS + col] * p.scale2_f;
        mx = fmaxf(mx, s[c]);
      }
      mx = lanes_max<32>(mx);
      const float alpha = exp2f(m[r] - mx);
      float sum = 0.0f;
#pragma unroll
      for (int c = 0; c < BK / 32; ++c) {
        const float e = exp2f(s[c] - mx);
        sum += e;
        ps[(r0 + r) * PP + lane + 32 * c] = convert<T>(e);
      }
      l[r] = l[r] * alpha + lanes_sum<32>(sum);
      m[r] = mx;
      for (int d = lane; d < D; d += 32) os[(r0 + r) * PO + d] *= alpha;
    }
    __syncthreads();  // every warp's scores are taken: the key tile may go
    load_tile<T, D>(kv, PT, kv_head_ptr<const T>(v, job, p), v.st, k0, BK, p);
    __syncthreads();
    if (seen > 0) {
      typename F::Acc o[D / 16];
#pragma unroll
      for (int n = 0; n < D / 16; ++n)
        wmma::load_matrix_sync(o[n], os + r0 * PO + 16 * n, PO, wmma::mem_row_major);
      mul_ab<T, D / 16>(o, ps + r0 * PP, PP, kv, PT, 0, 16 * seen);
#pragma unroll
      for (int n = 0; n < D / 16; ++n)
        wmma::store_matrix_sync(os + r0 * PO + 16 * n, o[n], PO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  T* out_head = head_ptr<T>(out, job);
#pragma unroll
  for (int r = 0; r < 16; ++r) {
    const int row = q0 + r0 + r;
    if (row >= p.len) break;
    const float inv = 1.0f / l[r];
    for (int d = lane; d < p.dim; d += 32)
      out_head[row * out.st + d] = convert<T>(os[(r0 + r) * PO + d] * inv);
    if (lane == 0) lse[job.bh * p.len + row] = (m[r] + log2f(l[r])) * float(kLn2);
  }
#endif
}

// ---- backward -------------------------------------------------------------------

// dq = scale * sum_j ds_ij k_j, a block per 64 queries.
//   p_ij = exp(s_ij - L_i), ds_ij = p_ij (dout_i . v_j - row_dot_i)
template <class T, int D, int BK> struct DqSmem {
  static constexpr int PT = pitch<T>(D), PS = pitch<float>(BK), PP = pitch<T>(BK);
  static constexpr size_t tiles = sizeof(T) * (2 * kRows * PT + 2 * BK * PT + kRows * PP) +
                                  sizeof(float) * 2 * kRows * PS;
  static constexpr size_t bytes = std::max(tiles, sizeof(float) * kRows * pitch<float>(D));
};

template <class T, int D, int BK>
__global__ void __launch_bounds__(kThreads)
    dq_kernel(Heads dq, Heads dout, Heads q, Heads k, Heads v, const float* lse,
              const float* row_dot, Problem p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
#else
  using F = Frag<T>;
  using S = DqSmem<T, D, BK>;
  constexpr int PT = S::PT, PS = S::PS, PP = S::PP;
  extern __shared__ __align__(128) unsigned char smem[];
  T* qs = reinterpret_cast<T*>(smem);                      // (kRows, PT) queries
  T* gs = qs + kRows * PT;                                  // (kRows, PT) their output gradients
  T* ks = gs + kRows * PT;                                  // (BK, PT) a key tile
  T* vs = ks + BK * PT;                                     // (BK, PT) its values
  T* dss = vs + BK * PT;                                    // (kRows, PP) the tile's ds
  float* ss = reinterpret_cast<float*>(dss + kRows * PP);   // (kRows, PS) scores
  float* dps = ss + kRows * PS;                             // (kRows, PS) dout . v

  const int tiles = (p.len + kRows - 1) / kRows;
  const BlockJob job = block_job(p, tiles, true);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int q0 = job.tile * kRows, r0 = 16 * warp, last = q0 + r0 + 15;
  load_tile<T, D>(qs, PT, head_ptr<const T>(q, job), q.st, q0, kRows, p);
  load_tile<T, D>(gs, PT, head_ptr<const T>(dout, job), dout.st, q0, kRows, p);

  // Rows past len see zero queries and gradients: finite, never written.
  float lse2[16], rd[16];
#pragma unroll
  for (int r = 0; r < 16; ++r) {
    const int row = q0 + r0 + r;
    lse2[r] = row < p.len ? lse[job.bh * p.len + row] * float(kLog2e) : 0.0f;
    rd[r] = row < p.len ? row_dot[job.bh * p.len + row] : 0.0f;
  }
  typename F::Acc acc[D / 16];
#pragma unroll
  for (int n = 0; n < D / 16; ++n) wmma::fill_fragment(acc[n], 0.0f);

  const int key_end = min(p.len, q0 + kRows);
  for (int k0 = 0; k0 < key_end; k0 += BK) {
    const int seen = blocks_seen(last, k0, BK);
    __syncthreads();  // the previous tile's keys and values are consumed
    load_tile<T, D>(ks, PT, kv_head_ptr<const T>(k, job, p), k.st, k0, BK, p);
    load_tile<T, D>(vs, PT, kv_head_ptr<const T>(v, job, p), v.st, k0, BK, p);
    __syncthreads();
    if (seen == 0) continue;  // warp-uniform; the next tile's barrier is reached by all
    products_to_shared<T, BK / 16, D>(ss + r0 * PS, PS, qs + r0 * PT, PT, ks, PT, 0, seen);
    products_to_shared<T, BK / 16, D>(dps + r0 * PS, PS, gs + r0 * PT, PT, vs, PT, 0, seen);
    __syncwarp();
#pragma unroll
    for (int r = 0; r < 16; ++r) {
      const int row = q0 + r0 + r;
      for (int col = lane; col < 16 * seen; col += 32) {
        const int i = (r0 + r) * PS + col;
        const float w = exp2f(ss[i] * p.scale2_f - lse2[r]);
        dss[(r0 + r) * PP + col] = convert<T>(k0 + col > row ? 0.0f : w * (dps[i] - rd[r]));
      }
    }
    __syncwarp();
    mul_ab<T, D / 16>(acc, dss + r0 * PP, PP, ks, PT, 0, 16 * seen);
  }

  __syncthreads();  // every warp is done with the tiles: stage over them
  float* stage = reinterpret_cast<float*>(smem) + r0 * pitch<float>(D);
  write_rows<T, D>(acc, float(p.scale), stage, head_ptr<T>(dq, job), dq.st, q0 + r0, p);
#endif
}

// dk = scale * sum_i ds_ij q_i and dv = sum_i p_ij dout_i, a block per 64
// keys; its tiles are key x query (s^T, p^T, ds^T).
template <class T, int D, int BQ> struct DkDvSmem {
  static constexpr int PT = pitch<T>(D), PS = pitch<float>(BQ), PP = pitch<T>(BQ);
  static constexpr size_t tiles = sizeof(T) * (2 * kRows * PT + 2 * BQ * PT + 2 * kRows * PP) +
                                  sizeof(float) * (2 * kRows * PS + 2 * BQ);
  static constexpr size_t bytes = std::max(tiles, sizeof(float) * kRows * pitch<float>(D));
};

template <class T, int D, int BQ>
__global__ void __launch_bounds__(kThreads)
    dkdv_kernel(Heads dk, Heads dv, Heads dout, Heads q, Heads k, Heads v, const float* lse,
                const float* row_dot, Problem p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
#else
  using F = Frag<T>;
  using S = DkDvSmem<T, D, BQ>;
  constexpr int PT = S::PT, PS = S::PS, PP = S::PP;
  extern __shared__ __align__(128) unsigned char smem[];
  T* ks = reinterpret_cast<T*>(smem);                      // (kRows, PT) the block's keys
  T* vs = ks + kRows * PT;                                  // (kRows, PT) their values
  T* qs = vs + kRows * PT;                                  // (BQ, PT) a query tile
  T* gs = qs + BQ * PT;                                     // (BQ, PT) its output gradients
  T* ws = gs + BQ * PT;                                     // (kRows, PP) weights p^T
  T* dss = ws + kRows * PP;                                 // (kRows, PP) ds^T
  float* ss = reinterpret_cast<float*>(dss + kRows * PP);   // (kRows, PS) scores s^T
  float* dps = ss + kRows * PS;                             // (kRows, PS) (dout . v)^T
  float* lse2 = dps + kRows * PS;                           // (BQ) the query tile's lse, base 2
  float* rd = lse2 + BQ;                                    // (BQ) its row_dot

  const int tiles = (p.len + kRows - 1) / kRows;
  const BlockJob job = block_job(p, tiles, false);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int k0 = job.tile * kRows, r0 = 16 * warp, first = k0 + r0;  // the warp's first key
  load_tile<T, D>(ks, PT, kv_head_ptr<const T>(k, job, p), k.st, k0, kRows, p);
  load_tile<T, D>(vs, PT, kv_head_ptr<const T>(v, job, p), v.st, k0, kRows, p);
  typename F::Acc dk_acc[D / 16], dv_acc[D / 16];
#pragma unroll
  for (int n = 0; n < D / 16; ++n) {
    wmma::fill_fragment(dk_acc[n], 0.0f);
    wmma::fill_fragment(dv_acc[n], 0.0f);
  }

  for (int q0 = k0; q0 < p.len; q0 += BQ) {
    // The 16-query blocks [j0, BQ / 16) whose last query sees the warp's first key.
    const int j0 = first <= q0 + 15 ? 0 : min((first - q0) / 16, BQ / 16);
    __syncthreads();  // the previous query tile is consumed
    load_tile<T, D>(qs, PT, head_ptr<const T>(q, job), q.st, q0, BQ, p);
    load_tile<T, D>(gs, PT, head_ptr<const T>(dout, job), dout.st, q0, BQ, p);
    for (int i = threadIdx.x; i < BQ; i += kThreads) {
      const int t = q0 + i;  // queries past len get weight exp2(-inf) = 0
      lse2[i] = t < p.len ? lse[job.bh * p.len + t] * float(kLog2e) : infinity<float>();
      rd[i] = t < p.len ? row_dot[job.bh * p.len + t] : 0.0f;
    }
    __syncthreads();
    if (j0 == BQ / 16) continue;  // warp-uniform
    products_to_shared<T, BQ / 16, D>(ss + r0 * PS, PS, ks + r0 * PT, PT, qs, PT, j0, BQ / 16);
    products_to_shared<T, BQ / 16, D>(dps + r0 * PS, PS, vs + r0 * PT, PT, gs, PT, j0, BQ / 16);
    __syncwarp();
#pragma unroll
    for (int r = 0; r < 16; ++r) {
      const int key = first + r;
      for (int col = 16 * j0 + lane; col < BQ; col += 32) {
        const int i = (r0 + r) * PS + col;
        const bool masked = key > q0 + col;
        const float w = masked ? 0.0f : exp2f(ss[i] * p.scale2_f - lse2[col]);
        ws[(r0 + r) * PP + col] = convert<T>(w);
        dss[(r0 + r) * PP + col] = convert<T>(masked ? 0.0f : w * (dps[i] - rd[col]));
      }
    }
    __syncwarp();
    mul_ab<T, D / 16>(dv_acc, ws + r0 * PP, PP, gs, PT, 16 * j0, BQ);
    mul_ab<T, D / 16>(dk_acc, dss + r0 * PP, PP, qs, PT, 16 * j0, BQ);
  }

  __syncthreads();  // every warp is done with the tiles: stage over them
  float* stage = reinterpret_cast<float*>(smem) + r0 * pitch<float>(D);
  write_rows<T, D>(dv_acc, 1.0f, stage, head_ptr<T>(dv, job), dv.st, first, p);
  write_rows<T, D>(dk_acc, float(p.scale), stage, head_ptr<T>(dk, job), dk.st, first, p);
#endif
}

// The most shared memory any of the three kernels takes for operand type T
// and padded head size D. use_tensor_cores() holds it against the device's
// opt-in limit, so the forward and the backward take the same path.
template <class T, int D> constexpr size_t shared_bytes() {
  constexpr int B = inner_tile<T, D>();
  return std::max({ForwardSmem<T, D, B>::bytes, DqSmem<T, D, B>::bytes, DkDvSmem<T, D, B>::bytes});
}

}  // namespace dlt::gpu::attention::mma
#endif
