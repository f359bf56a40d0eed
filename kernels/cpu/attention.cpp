// causal_attention and its fused backward on the CPU, parallel over the
// B * H heads. Each head is computed by one thread in a fixed order: results
// do not depend on the thread count.
//
// float, f16 and bf16 take the blocked path: a head's q, k and v are copied
// into float scratch (k and v also transposed), and each block of query rows
// forms its scores against the keys it may see with register-tiled products
// (small_gemm.h), so the (T, T) weights never leave the cache. float64 keeps
// a plain per-row computation, the reference the blocked path is tested
// against.
//
// Grouped-query attention: k and v may have Hkv heads, Hkv dividing q's H;
// query head h reads key/value head h / (H / Hkv) in place (never repeated).
// The backward runs one thread per key/value head, which sums its group's
// dk and dv in a fixed order.
//
// Dropout on the weights (training): weight (b, h, i, j) is kept with the
// mask the dropout op would draw over the (B, H, T, T) weights at the same
// generator offset, so the result is the unfused path's. The backward draws
// the mask again instead of storing it.
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/small_gemm.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// A (B, H, T, D) operand with unit stride along D, addressed by head bh = b * H + h.
template <class T> struct Heads {
  T* data;
  int64_t sb, sh, st, heads;
  T* row(int64_t bh, int64_t t) const { return data + bh / heads * sb + bh % heads * sh + t * st; }
};
// The key/value head (b * Hkv + h / group) of query head bh = b * H + h.
inline int64_t kv_head(int64_t bh, int64_t heads, int64_t kv_heads) {
  return bh / heads * kv_heads + bh % heads / (heads / kv_heads);
}
template <class T> Heads<T> heads_of(const Tensor& t) {
  return {static_cast<T*>(t.raw_data()), t.stride(0), t.stride(1), t.stride(2), t.size(1)};
}

template <class C, class T, class U> C dot(const T* a, const U* b, int64_t n) {
  C s = 0;
  for (int64_t i = 0; i < n; ++i) s += C(a[i]) * C(b[i]);
  return s;
}

// Dropout on the (B, H, T, T) weights: weight (bh, i, j) is element
// (bh * T + i) * T + j of the dropout op's mask, kept ones scaled by 1 / (1 - p).
struct WeightDropout {
  WeightDropout(const ops::AttentionAttrs& a, int64_t len)
      : on(a.dropout > 0), keep_prob(1.0 - a.dropout), threshold(keep_threshold(keep_prob)), seed(a.seed),
        offset(a.offset), len(len) {}
  // keep[j] for the keys j in [0, keys) of query i of head bh.
  void row(int64_t bh, int64_t i, int64_t keys, bool* keep) const {
    const int64_t first = (bh * len + i) * len;
    dropout_keep_mask(seed, offset, threshold, first, first + keys, keep);
  }
  template <class C> C scale() const { return C(1.0 / keep_prob); }
  bool on;
  double keep_prob;
  uint64_t threshold;  // keep_threshold(keep_prob)
  uint64_t seed, offset;
  int64_t len;
};

// The operands of a forward call: in (q, k, v), out (out, lse). lse is in
// compute_t<T> (float for f32/f16/bf16, double for f64).
template <class T> struct ForwardCall {
  explicit ForwardCall(const KernelCall& call)
      : len(call.in[0].size(2)), dim(call.in[0].size(3)), heads(call.in[0].size(1)),
        kv_heads(call.in[1].size(1)), scale(call.attrs<ops::AttentionAttrs>().scale),
        drop(call.attrs<ops::AttentionAttrs>(), len), Q(heads_of<T>(call.in[0])),
        K(heads_of<T>(call.in[1])), V(heads_of<T>(call.in[2])), O(heads_of<T>(call.out[0])),
        lse(call.out[1].data_ptr<compute_t<T>>()) {}
  int64_t len, dim, heads, kv_heads;
  double scale;
  WeightDropout drop;
  Heads<T> Q, K, V, O;
  compute_t<T>* lse;  // (B * H, T)
};

// The operands of a backward call: in (grad, q, k, v, out, lse), out (dq, dk, dv).
template <class T> struct BackwardCall {
  explicit BackwardCall(const KernelCall& call)
      : len(call.in[1].size(2)), dim(call.in[1].size(3)), heads(call.in[1].size(1)),
        kv_heads(call.in[2].size(1)), group(heads / kv_heads),
        scale(call.attrs<ops::AttentionAttrs>().scale), drop(call.attrs<ops::AttentionAttrs>(), len),
        G(heads_of<T>(call.in[0])),
        Q(heads_of<T>(call.in[1])), K(heads_of<T>(call.in[2])), V(heads_of<T>(call.in[3])),
        O(heads_of<T>(call.in[4])), dQ(heads_of<T>(call.out[0])), dK(heads_of<T>(call.out[1])),
        dV(heads_of<T>(call.out[2])), lse(call.in[5].data_ptr<compute_t<T>>()) {}
  // Query head g (of group) of key/value head kvh = b * Hkv + j: b * H + j * group + g.
  int64_t query_head(int64_t kvh, int64_t g) const {
    return kvh / kv_heads * heads + kvh % kv_heads * group + g;
  }
  int64_t len, dim, heads, kv_heads, group;
  double scale;
  WeightDropout drop;
  Heads<T> G, Q, K, V, O, dQ, dK, dV;
  const compute_t<T>* lse;  // (B * H, T)
};

// One thread per head of t: ~T * T * D work each, so a single head is worth a thread.
template <class F> void for_each_head(const Tensor& t, F f) {
  parallel_for(0, t.size(0) * t.size(1), 1, [&](int64_t b, int64_t e) {
    for (int64_t bh = b; bh < e; ++bh) f(bh);
  });
}

// ---- float64: one row at a time ------------------------------------------------
// forward: out_i = sum_{j <= i} exp(s_ij - L_i) z_ij v_j, s_ij = scale q_i . k_j,
// z_ij the dropout factor (1 without dropout)

// in (q, k, v), out (out, lse).
template <class T> void reference_forward(const KernelCall& call) {
  const ForwardCall<T> c(call);
  const int64_t len = c.len, dim = c.dim;
  const auto scale = T(c.scale);
  const auto &Q = c.Q, &K = c.K, &V = c.V, &O = c.O;
  const T drop_scale = c.drop.template scale<T>();
  for_each_head(call.in[0], [&](int64_t bh) {
    const int64_t kvh = kv_head(bh, c.heads, c.kv_heads);
    std::vector<T> s(static_cast<size_t>(len)), acc(static_cast<size_t>(dim));
    const std::unique_ptr<bool[]> keep(c.drop.on ? new bool[size_t(len)] : nullptr);  // query i's mask
    for (int64_t i = 0; i < len; ++i) {
      const T* qi = Q.row(bh, i);
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j <= i; ++j) {
        s[j] = dot<T>(qi, K.row(kvh, j), dim) * scale;
        mx = std::max(mx, s[j]);
      }
      if (c.drop.on) c.drop.row(bh, i, i + 1, keep.get());
      T sum = 0;
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t j = 0; j <= i; ++j) {
        const T e = std::exp(s[j] - mx);
        sum += e;
        const T w = c.drop.on ? (keep[j] ? e * drop_scale : T(0)) : e;
        const T* vj = V.row(kvh, j);
        for (int64_t d = 0; d < dim; ++d) acc[d] += w * vj[d];
      }
      T* oi = O.row(bh, i);
      for (int64_t d = 0; d < dim; ++d) oi[d] = acc[d] / sum;
      c.lse[bh * len + i] = mx + std::log(sum);
    }
  });
}

// backward:
//   p_ij  = exp(s_ij - L_i)                    (the forward's weights, recomputed)
//   ds_ij = p_ij (z_ij dout_i . v_j - dout_i . out_i)
//   dq_i  = scale sum_j ds_ij k_j,  dk_j = scale sum_i ds_ij q_i,  dv_j = sum_i p_ij z_ij dout_i

// in (grad, q, k, v, out, lse), out (dq, dk, dv).
template <class T> void reference_backward(const KernelCall& call) {
  const BackwardCall<T> c(call);
  const int64_t len = c.len, dim = c.dim;
  const auto scale = T(c.scale);
  const auto &G = c.G, &Q = c.Q, &K = c.K, &V = c.V, &O = c.O, &dQ = c.dQ, &dK = c.dK, &dV = c.dV;
  const T* lse = c.lse;
  const T drop_scale = c.drop.template scale<T>();
  for_each_head(call.in[2], [&](int64_t kvh) {
    const auto n = static_cast<size_t>(len), d_n = static_cast<size_t>(dim);
    std::vector<T> p(n), ds(n), dq(d_n);
    const std::unique_ptr<bool[]> keep(c.drop.on ? new bool[n] : nullptr);  // query i's mask
    std::vector<T> dk(n * d_n), dv(n * d_n);  // sums over the group's queries
    for (int64_t g = 0; g < c.group; ++g) {
      const int64_t bh = c.query_head(kvh, g);
      for (int64_t i = 0; i < len; ++i) {
        const T *qi = Q.row(bh, i), *gi = G.row(bh, i);
        const T li = lse[bh * len + i], gi_oi = dot<T>(gi, O.row(bh, i), dim);
        if (c.drop.on) c.drop.row(bh, i, i + 1, keep.get());
        for (int64_t j = 0; j <= i; ++j) {
          const T z = c.drop.on ? (keep[j] ? drop_scale : T(0)) : T(1);
          p[j] = std::exp(dot<T>(qi, K.row(kvh, j), dim) * scale - li);
          ds[j] = p[j] * (z * dot<T>(gi, V.row(kvh, j), dim) - gi_oi);
          p[j] *= z;  // dv's weights are the dropped ones
        }
        std::fill(dq.begin(), dq.end(), T(0));
        for (int64_t j = 0; j <= i; ++j) {
          const T* kj = K.row(kvh, j);
          T *dkj = &dk[j * dim], *dvj = &dv[j * dim];
          for (int64_t d = 0; d < dim; ++d) {
            dq[d] += ds[j] * kj[d];
            dkj[d] += ds[j] * qi[d];
            dvj[d] += p[j] * gi[d];
          }
        }
        T* dqi = dQ.row(bh, i);
        for (int64_t d = 0; d < dim; ++d) dqi[d] = dq[d] * scale;
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      T *dkj = dK.row(kvh, j), *dvj = dV.row(kvh, j);
      for (int64_t d = 0; d < dim; ++d) {
        dkj[d] = dk[j * dim + d] * scale;
        dvj[d] = dv[j * dim + d];
      }
    }
  });
}

// ---- float, f16, bf16: blocks of queries ----------------------------------------
// The same formulas in float, a block of kBlock queries at a time, computed
// transposed: the block's scores are s^T (keys, kBlock) = k (keys, D) times
// (scale q)^T (D, kBlock), one small_gemm over the keys the block may see.
// Each query is a lane, so its max, exponentials, sum and log-sum-exp are
// plain vector operations with no reduction across lanes; the causal mask
// only touches the block's diagonal.

constexpr int64_t kBlock = 32;  // queries per block; a multiple of kSmallGemmPad
constexpr float kInf = std::numeric_limits<float>::infinity();

int64_t padded(int64_t n) { return (n + kSmallGemmPad - 1) / kSmallGemmPad * kSmallGemmPad; }

// Rows [first, first + n) of head bh into dst (n x ld, padding columns zeroed), times scale.
template <class T>
void gather_rows(const Heads<T>& src, int64_t bh, int64_t first, int64_t n, int64_t dim,
                 float scale, float* dst, int64_t ld) {
  for (int64_t t = 0; t < n; ++t) {
    const T* s = src.row(bh, first + t);
    float* d = dst + t * ld;
#pragma omp simd
    for (int64_t i = 0; i < dim; ++i) d[i] = float(s[i]) * scale;
    std::fill(d + dim, d + ld, 0.0f);
  }
}

// A head's T rows as float matrix rows (row i at data + i * ld, ld columns
// with zero padding past D, never written through).
struct FloatRows {
  const float* data;
  int64_t ld;
  const float* row(int64_t i) const { return data + i * ld; }
};

// Head bh of src as FloatRows: in place where it already is float with D a
// multiple of kSmallGemmPad (nothing to convert or pad; the rows stay where
// the qkv projection wrote them), else converted into scratch (T x dp).
template <class T>
FloatRows head_rows(const Heads<T>& src, int64_t bh, int64_t len, int64_t dim, int64_t dp,
                    float* scratch) {
  if constexpr (std::is_same_v<T, float>)
    if (dim == dp) return {src.row(bh, 0), src.st};
  gather_rows(src, bh, 0, len, dim, 1.0f, scratch, dp);
  return {scratch, dp};
}

// kLanes elements of a row as floats (16-bit floats through loops.h's widen).
template <class T> vec::Float load_float(const T* p) {
  if constexpr (std::is_same_v<T, float>) {
    return vec::load(p);
  } else {
    float f[vec::kLanes];
    widen(p, f, vec::kLanes);
    return vec::load(f);
  }
}

// Rows [first, first + n) of head bh transposed, times scale: dst (dim x
// kBlock), dst[d][t] = src[first + t][d]; columns >= n zeroed. Square tiles
// of kLanes rows are transposed in registers; columns past the last whole
// tile one element at a time.
template <class T>
void gather_block_transposed(const Heads<T>& src, int64_t bh, int64_t first, int64_t n,
                             int64_t dim, float scale, float* dst) {
  static_assert(kBlock % vec::kLanes == 0);
  constexpr int L = vec::kLanes;
  if (n < kBlock) std::fill(dst, dst + dim * kBlock, 0.0f);
  const int64_t whole = dim / L * L;
  for (int64_t t0 = 0; t0 < n; t0 += L) {
    const int64_t rows = std::min<int64_t>(L, n - t0);
    for (int64_t d0 = 0; d0 < whole; d0 += L) {
      vec::Float tile[L];
#pragma GCC unroll 16
      for (int r = 0; r < L; ++r)
        tile[r] = r < rows ? load_float(src.row(bh, first + t0 + r) + d0) * scale : vec::Float{};
      vec::transpose(tile);
#pragma GCC unroll 16
      for (int c = 0; c < L; ++c) vec::store(dst + (d0 + c) * kBlock + t0, tile[c]);
    }
    for (int64_t t = t0; t < t0 + rows; ++t) {
      const T* s = src.row(bh, first + t);
      for (int64_t d = whole; d < dim; ++d) dst[d * kBlock + t] = float(s[d]) * scale;
    }
  }
}

// Scores s^T (keys, kBlock) of the block of queries from i0: key j is in the
// future of query i0 + r when j > i0 + r, which happens only for j in
// (i0, i0 + kBlock): those scores become -inf.
void mask_future(float* st, int64_t keys, int64_t i0) {
  for (int64_t j = i0 + 1; j < std::min(keys, i0 + kBlock); ++j)
    std::fill(st + j * kBlock, st + j * kBlock + (j - i0), -kInf);
}

// p^T = exp(s^T - lse), lse per query (lane).
void weights(float* st, int64_t keys, const float* lse) {
  static_assert(kBlock % vec::kLanes == 0);
  for (int64_t j = 0; j < keys; ++j)
    for (int64_t r = 0; r < kBlock; r += vec::kLanes) {
      float* p = st + j * kBlock + r;
      vec::store(p, vec::exp(vec::load(p) - vec::load(lse + r)));
    }
}

#ifdef DLT_PHILOX_LANES
static_assert(kBlock % vec::kLanes == 0);

// A block's dropout factors key by key, for T even: query i's keys j and
// j + 1 (j even) are one Philox block, counter offset + ((bh T + i) T + j) / 2,
// so the counters of a vector's query lanes are T / 2 apart. f(j, h, z): z
// holds key j's factors (1 / (1 - p) or 0) for the lanes [h L, h L + L) of
// the block of queries from i0, L = vec::kLanes. Lanes past the last query
// and keys after a query's own draw too; their weights are 0 or never read.
template <class F>
void for_each_key_factors(const WeightDropout& drop, int64_t bh, int64_t i0, int64_t keys, F f) {
  const PhiloxKeepLanes philox(drop.seed, drop.threshold);
  const vec::Float factor = vec::splat(drop.scale<float>());
  const auto step = uint64_t(drop.len / 2);
  for (int64_t j = 0; j < keys; j += 2)
    for (int64_t h = 0; h < kBlock / vec::kLanes; ++h) {
      const auto first = uint64_t((bh * drop.len + i0 + vec::kLanes * h) * drop.len + j);
      const PhiloxKeepLanes::Masks m = philox.strided(drop.offset + first / 2, step);
      f(j, h, vec::Float(PhiloxKeepLanes::select(m.even, factor)));
      if (j + 1 < keys) f(j + 1, h, vec::Float(PhiloxKeepLanes::select(m.odd, factor)));
    }
}

// Whether for_each_key_factors serves this dropout: T even and a mask to draw at all.
bool key_factors_apply(const WeightDropout& drop) {
  return drop.len % 2 == 0 && !keeps_all(drop.threshold);
}
#endif

// Dropout on the weights p^T (keys, kBlock) of the queries i0 + r, r < rows:
// the keys j <= i0 + r each query sees (later ones already have weight 0).
void drop_weights(float* pt, int64_t keys, int64_t i0, int64_t rows, int64_t bh,
                  const WeightDropout& drop, bool* keep) {
  const float scale = drop.scale<float>();
#ifdef DLT_PHILOX_LANES
  if (key_factors_apply(drop))
    return for_each_key_factors(drop, bh, i0, keys, [&](int64_t j, int64_t h, vec::Float z) {
      float* p = pt + j * kBlock + vec::kLanes * h;
      vec::store(p, vec::load(p) * z);
    });
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t seen = std::min(keys, i0 + r + 1);
    drop.row(bh, i0 + r, seen, keep);
    for (int64_t j = 0; j < seen; ++j) {
      float& p = pt[j * kBlock + r];
      p = keep[j] ? p * scale : 0.0f;
    }
  }
}

template <class T> void blocked_forward(const KernelCall& call) {
  const ForwardCall<T> c(call);
  const int64_t len = c.len, dim = c.dim, dp = padded(dim);
  const auto scale = float(c.scale);
  const auto &Q = c.Q, &K = c.K, &V = c.V, &O = c.O;
  float* lse = c.lse;
  for_each_head(call.in[0], [&](int64_t bh) {
    const int64_t kvh = kv_head(bh, c.heads, c.kv_heads);
    thread_local std::vector<float> buf;
    buf.resize(static_cast<size_t>(2 * len * dp + dim * kBlock + len * kBlock + kBlock * dp));
    const std::unique_ptr<bool[]> keep(c.drop.on ? new bool[size_t(len)] : nullptr);  // query i's mask
    float* qt = buf.data();           // (D, kBlock): the block's scale q, transposed
    float* st = qt + dim * kBlock;    // (T, kBlock): scores, then weights, transposed
    float* o = st + len * kBlock;     // (kBlock, Dp)
    float* scratch = o + kBlock * dp;  // (2, T, Dp): k and v where converted
    const FloatRows ks = head_rows(K, kvh, len, dim, dp, scratch);
    const FloatRows vs = head_rows(V, kvh, len, dim, dp, scratch + len * dp);
    for (int64_t i0 = 0; i0 < len; i0 += kBlock) {
      const int64_t rows = std::min(kBlock, len - i0), keys = i0 + rows;
      gather_block_transposed(Q, bh, i0, rows, dim, scale, qt);
      small_gemm(keys, kBlock, dim, {ks.data, ks.ld}, qt, kBlock, st, kBlock, false);
      mask_future(st, keys, i0);
      float mx[kBlock], sum[kBlock], block_lse[kBlock];
      std::fill_n(mx, kBlock, -kInf);
      for (int64_t j = 0; j < keys; ++j) {
#pragma omp simd
        for (int64_t r = 0; r < kBlock; ++r) mx[r] = std::max(mx[r], st[j * kBlock + r]);
      }
      weights(st, keys, mx);
      std::fill_n(sum, kBlock, 0.0f);
      for (int64_t j = 0; j < keys; ++j) {
#pragma omp simd
        for (int64_t r = 0; r < kBlock; ++r) sum[r] += st[j * kBlock + r];
      }
#pragma omp simd
      for (int64_t r = 0; r < kBlock; ++r) block_lse[r] = mx[r] + flog(sum[r]);
      std::copy_n(block_lse, rows, lse + bh * len + i0);
      if (c.drop.on) drop_weights(st, keys, i0, rows, bh, c.drop, keep.get());
      // out_i = sum_j p_ij z_ij v_j / sum_i, p read transposed
      small_gemm(rows, dp, keys, {st, 1, kBlock}, vs.data, vs.ld, o, dp, false);
      for (int64_t r = 0; r < rows; ++r) {
        T* out = O.row(bh, i0 + r);
        const float inv = 1.0f / sum[r];
#pragma omp simd
        for (int64_t d = 0; d < dim; ++d) out[d] = T(o[r * dp + d] * inv);
      }
    }
  });
}

// With dropout, for the queries i0 + r, r < rows: the scores' gradient
// ds = p (z dout . v - delta) into dst (which holds dout . v), and the
// dropped weights p z into pt, which dv is summed with.
void drop_scores_gradient(float* pt, float* dst, int64_t keys, int64_t i0, int64_t rows,
                          int64_t bh, const float* delta, const WeightDropout& drop, bool* keep) {
  const float scale = drop.scale<float>();
#ifdef DLT_PHILOX_LANES
  if (key_factors_apply(drop))
    return for_each_key_factors(drop, bh, i0, keys, [&](int64_t j, int64_t h, vec::Float z) {
      float *p = pt + j * kBlock + vec::kLanes * h, *ds = dst + j * kBlock + vec::kLanes * h;
      const vec::Float pv = vec::load(p);
      vec::store(ds, pv * (z * vec::load(ds) - vec::load(delta + vec::kLanes * h)));
      vec::store(p, pv * z);
    });
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t seen = std::min(keys, i0 + r + 1);
    drop.row(bh, i0 + r, seen, keep);
    for (int64_t j = 0; j < keys; ++j) {
      float &p = pt[j * kBlock + r], &ds = dst[j * kBlock + r];
      const float z = j < seen && keep[j] ? scale : 0.0f;
      ds = p * (z * ds - delta[r]);
      p *= z;
    }
  }
}

template <class T> void blocked_backward(const KernelCall& call) {
  const BackwardCall<T> c(call);
  const int64_t len = c.len, dim = c.dim, dp = padded(dim);
  const auto scale = float(c.scale);
  const auto &G = c.G, &Q = c.Q, &K = c.K, &V = c.V, &O = c.O, &dQ = c.dQ, &dK = c.dK, &dV = c.dV;
  const float* lse = c.lse;
  for_each_head(call.in[2], [&](int64_t kvh) {
    thread_local std::vector<float> buf;
    buf.resize(static_cast<size_t>(7 * len * dp + 2 * dim * kBlock + 2 * len * kBlock +
                                   kBlock * dp + len));
    const std::unique_ptr<bool[]> keep(c.drop.on ? new bool[size_t(len)] : nullptr);  // query i's mask
    float* scratch = buf.data();      // (4, T, Dp): k, v, dout and out where converted
    float* dk = scratch + 4 * len * dp;  // (T, Dp): the group's sums
    float* dv = dk + len * dp;        // (T, Dp)
    float* qs = dv + len * dp;        // (T, Dp): scale q
    float* qt = qs + len * dp;        // (D, kBlock): the block's scale q, transposed
    float* gt = qt + dim * kBlock;    // (D, kBlock): the block's dout, transposed
    float* pt = gt + dim * kBlock;    // (T, kBlock): weights, transposed
    float* dst = pt + len * kBlock;   // (T, kBlock): dout . v_j, then the scores' gradient
    float* dq = dst + len * kBlock;   // (kBlock, Dp)
    float* delta = dq + kBlock * dp;  // (T): dout_i . out_i
    const FloatRows ks = head_rows(K, kvh, len, dim, dp, scratch);
    const FloatRows vs = head_rows(V, kvh, len, dim, dp, scratch + len * dp);
    std::fill(dk, dk + 2 * len * dp, 0.0f);  // dk and dv
    for (int64_t g = 0; g < c.group; ++g) {
      const int64_t bh = c.query_head(kvh, g);
      gather_rows(Q, bh, 0, len, dim, scale, qs, dp);
      const FloatRows gs = head_rows(G, bh, len, dim, dp, scratch + 2 * len * dp);
      const FloatRows os = head_rows(O, bh, len, dim, dp, scratch + 3 * len * dp);
      for (int64_t i = 0; i < len; ++i) delta[i] = vec::dot(gs.row(i), os.row(i), dim);
      for (int64_t i0 = 0; i0 < len; i0 += kBlock) {
        const int64_t rows = std::min(kBlock, len - i0), keys = i0 + rows;
        gather_block_transposed(Q, bh, i0, rows, dim, scale, qt);
        gather_block_transposed(G, bh, i0, rows, dim, 1.0f, gt);
        // Lanes past the last query get weight 0 (they are never read).
        float block_lse[kBlock], block_delta[kBlock];
        for (int64_t r = 0; r < kBlock; ++r) {
          block_lse[r] = r < rows ? lse[bh * len + i0 + r] : kInf;
          block_delta[r] = r < rows ? delta[i0 + r] : 0.0f;
        }
        small_gemm(keys, kBlock, dim, {ks.data, ks.ld}, qt, kBlock, pt, kBlock, false);
        mask_future(pt, keys, i0);
        weights(pt, keys, block_lse);
        small_gemm(keys, kBlock, dim, {vs.data, vs.ld}, gt, kBlock, dst, kBlock, false);
        if (c.drop.on) {
          drop_scores_gradient(pt, dst, keys, i0, rows, bh, block_delta, c.drop,
                               keep.get());
        } else {
          for (int64_t j = 0; j < keys; ++j) {
            const float* p = pt + j * kBlock;
            float* ds = dst + j * kBlock;
#pragma omp simd
            for (int64_t r = 0; r < kBlock; ++r) ds[r] = p[r] * (ds[r] - block_delta[r]);
          }
        }
        // dq_i = scale sum_j ds_ij k_j, ds read transposed
        small_gemm(rows, dp, keys, {dst, 1, kBlock}, ks.data, ks.ld, dq, dp, false);
        for (int64_t r = 0; r < rows; ++r) {
          T* out = dQ.row(bh, i0 + r);
#pragma omp simd
          for (int64_t d = 0; d < dim; ++d) out[d] = T(dq[r * dp + d] * scale);
        }
        // dv_j += sum_i p_ij dout_i and dk_j += sum_i ds_ij (scale q_i)
        small_gemm(keys, dp, rows, {pt, kBlock}, gs.row(i0), gs.ld, dv, dp, true);
        small_gemm(keys, dp, rows, {dst, kBlock}, qs + i0 * dp, dp, dk, dp, true);
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      T *dkj = dK.row(kvh, j), *dvj = dV.row(kvh, j);
#pragma omp simd
      for (int64_t d = 0; d < dim; ++d) {
        dkj[d] = T(dk[j * dp + d]);
        dvj[d] = T(dv[j * dp + d]);
      }
    }
  });
}

void causal_attention_kernel(const KernelCall& call) {
  visit_floating(call.in[0].dtype(), "causal_attention", [&]<class T>() {
    if constexpr (std::is_same_v<T, double>) reference_forward<T>(call);
    else blocked_forward<T>(call);
  });
}

void causal_attention_backward_kernel(const KernelCall& call) {
  visit_floating(call.in[1].dtype(), "causal_attention_backward", [&]<class T>() {
    if constexpr (std::is_same_v<T, double>) reference_backward<T>(call);
    else blocked_backward<T>(call);
  });
}

}  // namespace

DLT_REGISTER_KERNEL(causal_attention, cpu, causal_attention_kernel);
DLT_REGISTER_KERNEL(causal_attention_backward, cpu, causal_attention_backward_kernel);

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
