// Fused causal self-attention kernels, FlashAttention-2 style in plain CUDA
// C++ on FMA units: float64, float32 without TF32, and every type in HIP
// builds. float16, bfloat16 and float32 under TF32 go to the tensor-core
// kernels of attention_mma.cu, which share this file's launchers. Queries
// and keys are cut into tiles of B rows (64 or 32, as the head size, type
// and the device's shared memory allow: visit_tile_rows); a block of 256
// threads (16 x 16) owns one (b, h, tile):
//   forward  one block per query tile: loops over the key tiles up to the
//            diagonal, keeps each row's running max and sum (online softmax)
//            and its output row in registers; writes out and lse.
//   backward row_dot = rowsum(dout * out) first; then dk, dv with one block per
//            key tile looping over the query tiles from the diagonal on, and
//            dq in a separate pass with one block per query tile (no atomics:
//            deterministic). Both recompute the weights from q, k and lse.
// Inside a block thread (ty, tx) computes rows ty*R .. ty*R+R-1 of every tile
// product; score columns tx + 16c, output columns see out_col(). Tiles sit in
// shared memory padded by 4 elements per row, which keeps the 16-byte loads
// of a quarter warp on distinct banks. Scores are kept in base 2 (scale *
// log2 e folded in) so each weight is one exp2.
//
// Runtime and device names used (for the HIP mapping): cudaFuncSetAttribute,
// cudaFuncAttributeMaxDynamicSharedMemorySize, cudaGetDevice,
// __shfl_xor_sync, exp2f, exp2, log2f, log2.
#include <atomic>
#include <cstdint>
#include <cstdio>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/attention_mma.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

using namespace attention;

constexpr int kThreads = 256;  // 16 x 16
// Max / sum over the 16 threads (tx) that share a row.
template <class A> __device__ inline A row_max(A x) { return lanes_max<16>(x); }
template <class A> __device__ inline A row_sum(A x) { return lanes_sum<16>(x); }

// 16 bytes of A: the unit of shared-memory loads.
template <class A> struct alignas(16) Vec {
  static constexpr int n = 16 / sizeof(A);
  A v[n];
};
template <class A> __device__ inline Vec<A> load_vec(const A* p) {
  return *reinterpret_cast<const Vec<A>*>(p);
}

// Tile geometry for compute type A, padded head size D and tile size B.
template <class A, int D, int B> struct Tile {
  static constexpr int R = B / 16;   // rows per thread
  static constexpr int CS = B / 16;  // score columns per thread: tx + 16c
  static constexpr int NC = D / 16;  // output columns per thread: out_col(tx, c)
  static constexpr int P = D + 4;    // pitch of (B, D) tiles
  static constexpr int PB = B + 4;   // pitch of (B, B) tiles
  static constexpr int W = Vec<A>::n;
  static_assert(D % 32 == 0 && B % 32 == 0 && B % W == 0 && D % W == 0);
  // Shared memory of each kernel (their layouts below).
  static constexpr size_t forward_bytes = sizeof(A) * (2 * B * P + B * PB);
  static constexpr size_t dq_bytes = sizeof(A) * (4 * B * P + B * PB);
  static constexpr size_t dkdv_bytes = sizeof(A) * (4 * B * P + 2 * B * PB + 2 * B);

  // Groups of four adjacent columns, 64 apart (D >= 64), or two (D = 32):
  // neighbouring threads read neighbouring 16-byte pieces of a row.
  __device__ static int out_col(int tx, int c) {
    if constexpr (NC >= 4) return (c / 4) * 64 + tx * 4 + c % 4;
    else return tx * NC + c;
  }

  // The B rows [t0, t0 + B) of one head of src into dst (B x P), converted to
  // A; rows past len and columns past dim are zero.
  template <class T>
  __device__ static void load(A* dst, const T* src, int64_t st, int t0, const Problem& p) {
    for (int i = threadIdx.x; i < B * D; i += kThreads) {
      const int row = i / D, d = i % D, t = t0 + row;
      dst[row * P + d] = t < p.len && d < p.dim ? convert<A>(src[t * st + d]) : A(0);
    }
  }

  // acc[r][c] += a[row r] . b[column c] over D: a and b are (B x P) tiles.
  __device__ static void dot_rows(A (&acc)[R][CS], const A* a, const A* b, int ty, int tx) {
#pragma unroll
    for (int d = 0; d < D; d += W) {
      Vec<A> av[R], bv[CS];
#pragma unroll
      for (int r = 0; r < R; ++r) av[r] = load_vec(a + (ty * R + r) * P + d);
#pragma unroll
      for (int c = 0; c < CS; ++c) bv[c] = load_vec(b + (tx + 16 * c) * P + d);
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int c = 0; c < CS; ++c)
#pragma unroll
          for (int w = 0; w < W; ++w) acc[r][c] += av[r].v[w] * bv[c].v[w];
    }
  }

  // The NC output columns of this thread from one row of a (B x P) tile.
  __device__ static void load_cols(A (&out)[NC], const A* row, int tx) {
    if constexpr (NC >= 4) {
#pragma unroll
      for (int g = 0; g < NC / 4; ++g)
#pragma unroll
        for (int h = 0; h < 4; h += W) {
          const Vec<A> v = load_vec(row + g * 64 + tx * 4 + h);
#pragma unroll
          for (int w = 0; w < W; ++w) out[g * 4 + h + w] = v.v[w];
        }
    } else {
#pragma unroll
      for (int c = 0; c < NC; ++c) out[c] = row[out_col(tx, c)];
    }
  }

  // acc[r][c] += sum_j w[row r][j] m[j][out column c]: w is (B x PB), m (B x P).
  __device__ static void mix_rows(A (&acc)[R][NC], const A* w, const A* m, int ty, int tx) {
#pragma unroll 2
    for (int j = 0; j < B; j += W) {
      Vec<A> wv[R];
#pragma unroll
      for (int r = 0; r < R; ++r) wv[r] = load_vec(w + (ty * R + r) * PB + j);
#pragma unroll
      for (int u = 0; u < W; ++u) {
        A mv[NC];
        load_cols(mv, m + (j + u) * P, tx);
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
          for (int c = 0; c < NC; ++c) acc[r][c] += wv[r].v[u] * mv[c];
      }
    }
  }
};

// ---- forward ------------------------------------------------------------------

template <class T, int D, int B>
__global__ void __launch_bounds__(kThreads, 2)
    attention_forward_kernel(Heads out, compute_t<T>* lse, Heads q, Heads k, Heads v, Problem p) {
  using A = compute_t<T>;
  using G = Tile<A, D, B>;
  constexpr int R = G::R, CS = G::CS, NC = G::NC, P = G::P, PB = G::PB;
  extern __shared__ __align__(16) unsigned char smem[];
  A* qs = reinterpret_cast<A*>(smem);  // (B, P) this block's queries
  A* kv = qs + B * P;                   // (B, P) a key tile, then its value tile
  A* ws = kv + B * P;                   // (B, PB) the tile's weights

  const int tiles = (p.len + B - 1) / B;
  const BlockJob job = block_job(p, tiles, true);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16, q0 = job.tile * B;
  G::load(qs, head_ptr<const T>(q, job), q.st, q0, p);

  A o[R][NC] = {}, m[R], l[R] = {};
#pragma unroll
  for (int r = 0; r < R; ++r) m[r] = -infinity<A>();
  const A scale2 = scale2_of<A>(p);

  for (int kt = 0; kt <= job.tile; ++kt) {
    const int k0 = kt * B;
    __syncthreads();  // the previous tile's weights and values are consumed
    G::load(kv, kv_head_ptr<const T>(k, job, p), k.st, k0, p);
    __syncthreads();
    A s[R][CS] = {};
    G::dot_rows(s, qs, kv, ty, tx);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int row = q0 + ty * R + r;
      // Key 0 of the first tile is always visible, so mx is finite.
      A mx = m[r];
#pragma unroll
      for (int c = 0; c < CS; ++c) {
        s[r][c] = k0 + tx + 16 * c > row ? -infinity<A>() : s[r][c] * scale2;
        mx = max(mx, s[r][c]);
      }
      mx = row_max(mx);
      const A alpha = exp2_of(m[r] - mx);
      A sum = 0;
#pragma unroll
      for (int c = 0; c < CS; ++c) {
        s[r][c] = exp2_of(s[r][c] - mx);
        sum += s[r][c];
        ws[(ty * R + r) * PB + tx + 16 * c] = s[r][c];
      }
      l[r] = l[r] * alpha + row_sum(sum);
      m[r] = mx;
#pragma unroll
      for (int c = 0; c < NC; ++c) o[r][c] *= alpha;
    }
    __syncthreads();  // weights written, keys consumed
    G::load(kv, kv_head_ptr<const T>(v, job, p), v.st, k0, p);
    __syncthreads();
    G::mix_rows(o, ws, kv, ty, tx);
  }

  T* out_head = head_ptr<T>(out, job);
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = q0 + ty * R + r;
    if (row >= p.len) continue;
    const A inv = A(1) / l[r];
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int col = G::out_col(tx, c);
      if (col < p.dim) out_head[row * out.st + col] = convert<T>(o[r][c] * inv);
    }
    if (tx == 0) lse[job.bh * p.len + row] = (m[r] + log2_of(l[r])) * A(kLn2);
  }
}

// ---- backward -------------------------------------------------------------------

// row_dot[bh, t] = dout[bh, t, :] . out[bh, t, :], one warp per row.
template <class T>
__global__ void __launch_bounds__(kThreads, 2)
    attention_row_dot_kernel(compute_t<T>* row_dot, Heads dout, Heads out, Problem p) {
  using A = compute_t<T>;
  const int64_t row = int64_t(blockIdx.x) * (kThreads / 32) + threadIdx.x / 32;
  if (row >= p.batch_heads * p.len) return;  // the whole warp leaves together
  const int lane = threadIdx.x % 32;
  const int64_t bh = row / p.len, t = row % p.len, b = bh / p.heads, h = bh % p.heads;
  const T* g = static_cast<const T*>(dout.data) + b * dout.sb + h * dout.sh + t * dout.st;
  const T* o = static_cast<const T*>(out.data) + b * out.sb + h * out.sh + t * out.st;
  A sum = 0;
  for (int d = lane; d < p.dim; d += 32) sum += convert<A>(g[d]) * convert<A>(o[d]);
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) row_dot[row] = sum;
}

// dq = scale * sum_j ds_ij k_j, one block per query tile.
//   p_ij = exp(s_ij - L_i), ds_ij = p_ij (dout_i . v_j - row_dot_i)
template <class T, int D, int B>
__global__ void __launch_bounds__(kThreads, 2)
    attention_backward_dq_kernel(Heads dq, Heads dout, Heads q, Heads k, Heads v,
                                 const compute_t<T>* lse, const compute_t<T>* row_dot, Problem p) {
  using A = compute_t<T>;
  using G = Tile<A, D, B>;
  constexpr int R = G::R, CS = G::CS, NC = G::NC, P = G::P, PB = G::PB;
  extern __shared__ __align__(16) unsigned char smem[];
  A* qs = reinterpret_cast<A*>(smem);  // (B, P) queries
  A* gs = qs + B * P;                   // (B, P) their output gradients
  A* ks = gs + B * P;                   // (B, P) a key tile
  A* vs = ks + B * P;                   // (B, P) its values
  A* dss = vs + B * P;                  // (B, PB) the tile's ds

  const int tiles = (p.len + B - 1) / B;
  const BlockJob job = block_job(p, tiles, true);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16, q0 = job.tile * B;
  G::load(qs, head_ptr<const T>(q, job), q.st, q0, p);
  G::load(gs, head_ptr<const T>(dout, job), dout.st, q0, p);

  // Rows past len see zero queries and gradients: finite, never written.
  A lse2[R], rd[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = q0 + ty * R + r;
    lse2[r] = row < p.len ? lse[job.bh * p.len + row] * A(kLog2e) : A(0);
    rd[r] = row < p.len ? row_dot[job.bh * p.len + row] : A(0);
  }
  const A scale2 = scale2_of<A>(p);
  A acc[R][NC] = {};

  for (int kt = 0; kt <= job.tile; ++kt) {
    const int k0 = kt * B;
    __syncthreads();  // the previous tile's ds and keys are consumed
    G::load(ks, kv_head_ptr<const T>(k, job, p), k.st, k0, p);
    G::load(vs, kv_head_ptr<const T>(v, job, p), v.st, k0, p);
    __syncthreads();
    A s[R][CS] = {}, dp[R][CS] = {};
    G::dot_rows(s, qs, ks, ty, tx);
    G::dot_rows(dp, gs, vs, ty, tx);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int row = q0 + ty * R + r;
#pragma unroll
      for (int c = 0; c < CS; ++c) {
        const A w = k0 + tx + 16 * c > row ? A(0) : exp2_of(s[r][c] * scale2 - lse2[r]);
        dss[(ty * R + r) * PB + tx + 16 * c] = w * (dp[r][c] - rd[r]);
      }
    }
    __syncthreads();
    G::mix_rows(acc, dss, ks, ty, tx);
  }

  T* dq_head = head_ptr<T>(dq, job);
  const A scale = A(p.scale);
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = q0 + ty * R + r;
    if (row >= p.len) continue;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int col = G::out_col(tx, c);
      if (col < p.dim) dq_head[row * dq.st + col] = convert<T>(acc[r][c] * scale);
    }
  }
}

// dk = scale * sum_i ds_ij q_i and dv = sum_i p_ij dout_i, one block per key
// tile; the tile's rows are keys, its columns queries.
template <class T, int D, int B>
__global__ void __launch_bounds__(kThreads, 2)
    attention_backward_dkdv_kernel(Heads dk, Heads dv, Heads dout, Heads q, Heads k, Heads v,
                                   const compute_t<T>* lse, const compute_t<T>* row_dot,
                                   Problem p) {
  using A = compute_t<T>;
  using G = Tile<A, D, B>;
  constexpr int R = G::R, CS = G::CS, NC = G::NC, P = G::P, PB = G::PB;
  extern __shared__ __align__(16) unsigned char smem[];
  A* ks = reinterpret_cast<A*>(smem);  // (B, P) this block's keys
  A* vs = ks + B * P;                   // (B, P) their values
  A* qs = vs + B * P;                   // (B, P) a query tile
  A* gs = qs + B * P;                   // (B, P) its output gradients
  A* ws = gs + B * P;                   // (B, PB) weights p, key x query
  A* dss = ws + B * PB;                 // (B, PB) ds, key x query
  A* lse2 = dss + B * PB;               // (B) the query tile's lse in base 2
  A* rd = lse2 + B;                     // (B) its row_dot

  const int tiles = (p.len + B - 1) / B;
  const BlockJob job = block_job(p, tiles, false);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16, k0 = job.tile * B;
  G::load(ks, kv_head_ptr<const T>(k, job, p), k.st, k0, p);
  G::load(vs, kv_head_ptr<const T>(v, job, p), v.st, k0, p);
  const A scale2 = scale2_of<A>(p);
  A dk_acc[R][NC] = {}, dv_acc[R][NC] = {};

  for (int qt = job.tile; qt < tiles; ++qt) {
    const int q0 = qt * B;
    __syncthreads();  // the previous query tile is consumed
    G::load(qs, head_ptr<const T>(q, job), q.st, q0, p);
    G::load(gs, head_ptr<const T>(dout, job), dout.st, q0, p);
    for (int i = threadIdx.x; i < B; i += kThreads) {
      const int t = q0 + i;  // queries past len get weight exp2(-inf) = 0
      lse2[i] = t < p.len ? lse[job.bh * p.len + t] * A(kLog2e)
                          : infinity<A>();
      rd[i] = t < p.len ? row_dot[job.bh * p.len + t] : A(0);
    }
    __syncthreads();
    A s[R][CS] = {}, dp[R][CS] = {};
    G::dot_rows(s, ks, qs, ty, tx);
    G::dot_rows(dp, vs, gs, ty, tx);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int key = k0 + ty * R + r;
#pragma unroll
      for (int c = 0; c < CS; ++c) {
        const int col = tx + 16 * c;
        const A w = key > q0 + col ? A(0) : exp2_of(s[r][c] * scale2 - lse2[col]);
        ws[(ty * R + r) * PB + col] = w;
        dss[(ty * R + r) * PB + col] = w * (dp[r][c] - rd[col]);
      }
    }
    __syncthreads();
    G::mix_rows(dv_acc, ws, gs, ty, tx);
    G::mix_rows(dk_acc, dss, qs, ty, tx);
  }

  T* dk_head = head_ptr<T>(dk, job);
  T* dv_head = head_ptr<T>(dv, job);
  const A scale = A(p.scale);
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = k0 + ty * R + r;
    if (row >= p.len) continue;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int col = G::out_col(tx, c);
      if (col >= p.dim) continue;
      dk_head[row * dk.st + col] = convert<T>(dk_acc[r][c] * scale);
      dv_head[row * dv.st + col] = convert<T>(dv_acc[r][c]);
    }
  }
}

// ---- launchers --------------------------------------------------------------------

// Calls f.template operator()<B>() with the rows of a tile: 64 for 4-byte
// compute types up to D = 64 where the device takes the backward's 64-row
// tiles (105 KB at D = 64: more than the 99 KiB of sm_86/89/120), else 32.
// The forward and the backward choose alike.
template <class A, int D, class F> void visit_tile_rows(F&& f) {
  if constexpr (sizeof(A) == 4 && D <= 64) {
    if (Tile<A, D, 64>::dkdv_bytes <= max_shared_bytes()) return f.template operator()<64>();
  }
  f.template operator()<32>();
}

}  // namespace

namespace attention {
namespace {
std::atomic<size_t> shared_bytes_cap{0};  // cap_attention_shared_bytes()
}  // namespace

size_t max_shared_bytes() {
  int device = 0;
  DLT_GPU_CHECK(cudaGetDevice(&device));
  const size_t limit = max_shared_bytes_per_block(device), cap = shared_bytes_cap.load();
  return cap > 0 && cap < limit ? cap : limit;
}

void check_shared_bytes(size_t bytes, const Problem& p) {
  const size_t limit = max_shared_bytes();
  if (bytes <= limit) return;
  char message[160];
  std::snprintf(message, sizeof message,
                "causal attention with head size %d needs %zu bytes of shared memory per block "
                "in this dtype; this GPU allows %zu",
                p.dim, bytes, limit);
  fail("cudaFuncSetAttribute", message, __FILE__, __LINE__);
}

}  // namespace attention

size_t cap_attention_shared_bytes(size_t bytes) { return attention::shared_bytes_cap.exchange(bytes); }

void launch_causal_attention(TensorArg out, TensorArg lse, TensorArg q, TensorArg k, TensorArg v,
                             double scale, bool tf32, cudaStream_t stream) {
  const Problem p = problem_of(q, k, scale);
  if (p.batch_heads == 0 || p.len == 0) return;
  if (use_tensor_cores(q.dtype, tf32, p.dim))
    return launch_forward_mma(p, heads_of(out), static_cast<float*>(lse.data), heads_of(q),
                              heads_of(k), heads_of(v), q.dtype, stream);
  visit_floating_code(q.dtype, [&]<class T>() {
    using A = compute_t<T>;
    visit_head_dim(p.dim, [&]<int D>() {
      visit_tile_rows<A, D>([&]<int B>() {
        constexpr size_t bytes = Tile<A, D, B>::forward_bytes;
        auto kernel = attention_forward_kernel<T, D, B>;
        allow_shared_memory(kernel, bytes, p);
        kernel<<<grid_of(p, B), kThreads, bytes, stream>>>(
            heads_of(out), static_cast<A*>(lse.data), heads_of(q), heads_of(k), heads_of(v), p);
        DLT_GPU_CHECK_LAUNCH();
      });
    });
  });
}

void launch_causal_attention_backward(TensorArg dq, TensorArg dk, TensorArg dv, TensorArg dout,
                                      TensorArg q, TensorArg k, TensorArg v, TensorArg out,
                                      TensorArg lse, TensorArg row_dot, double scale, bool tf32,
                                      cudaStream_t stream) {
  const Problem p = problem_of(q, k, scale);
  if (p.batch_heads == 0 || p.len == 0) return;
  visit_floating_code(q.dtype, [&]<class T>() {
    using A = compute_t<T>;
    A* rd = static_cast<A*>(row_dot.data);
    const A* ls = static_cast<const A*>(lse.data);
    const int64_t rows = p.batch_heads * p.len;
    const unsigned row_blocks = unsigned((rows + kThreads / 32 - 1) / (kThreads / 32));
    attention_row_dot_kernel<T><<<row_blocks, kThreads, 0, stream>>>(rd, heads_of(dout),
                                                                       heads_of(out), p);
    DLT_GPU_CHECK_LAUNCH();
    if constexpr (sizeof(A) == 4) {
      if (use_tensor_cores(q.dtype, tf32, p.dim))
        return launch_backward_mma(p, heads_of(dq), heads_of(dk), heads_of(dv), heads_of(dout),
                                   heads_of(q), heads_of(k), heads_of(v), ls, rd, q.dtype, stream);
    }
    visit_head_dim(p.dim, [&]<int D>() {
      visit_tile_rows<A, D>([&]<int B>() {
        using G = Tile<A, D, B>;
        auto dkdv = attention_backward_dkdv_kernel<T, D, B>;
        allow_shared_memory(dkdv, G::dkdv_bytes, p);
        dkdv<<<grid_of(p, B), kThreads, G::dkdv_bytes, stream>>>(
            heads_of(dk), heads_of(dv), heads_of(dout), heads_of(q), heads_of(k), heads_of(v), ls,
            rd, p);
        DLT_GPU_CHECK_LAUNCH();
        auto dq_kernel = attention_backward_dq_kernel<T, D, B>;
        allow_shared_memory(dq_kernel, G::dq_bytes, p);
        dq_kernel<<<grid_of(p, B), kThreads, G::dq_bytes, stream>>>(
            heads_of(dq), heads_of(dout), heads_of(q), heads_of(k), heads_of(v), ls, rd, p);
        DLT_GPU_CHECK_LAUNCH();
      });
    });
  });
}

}  // namespace dlt::gpu
