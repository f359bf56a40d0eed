// causal_attention and its fused backward on the CPU: a plain per-row
// computation (the row's scores, their max, then the weighted sum), parallel
// over the B * H heads. Each head is computed by one thread in a fixed order:
// results do not depend on the thread count. Arithmetic is in compute_t<T>
// (f16/bf16 in float); the saved logsumexp is in that type too.
//
// Grouped-query attention: k and v may have Hkv heads, Hkv dividing q's H;
// query head h reads key/value head h / (H / Hkv) in place (never repeated).
// The backward runs one thread per key/value head, which sums its group's
// dk and dv in a fixed order.
#include <cmath>
#include <limits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
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

// One thread per head of t: ~T * T * D work each, so a single head is worth a thread.
template <class F> void for_each_head(const Tensor& t, F f) {
  parallel_for(0, t.size(0) * t.size(1), 1, [&](int64_t b, int64_t e) {
    for (int64_t bh = b; bh < e; ++bh) f(bh);
  });
}

// ---- forward: out_i = sum_{j <= i} exp(s_ij - L_i) v_j, s_ij = scale q_i . k_j ----

// in (q, k, v), out (out, lse).
void causal_attention_kernel(const KernelCall& call) {
  const Tensor& q = call.in[0];
  const int64_t len = q.size(2), dim = q.size(3), heads = q.size(1), kv_heads = call.in[1].size(1);
  const double scale = call.attrs<ops::AttentionAttrs>().scale;
  visit_floating(q.dtype(), "causal_attention", [&]<class T>() {
    using C = compute_t<T>;
    const auto Q = heads_of<T>(q), K = heads_of<T>(call.in[1]), V = heads_of<T>(call.in[2]);
    const auto O = heads_of<T>(call.out[0]);
    C* lse = call.out[1].data_ptr<C>();
    for_each_head(q, [&](int64_t bh) {
      const int64_t kvh = kv_head(bh, heads, kv_heads);
      std::vector<C> s(static_cast<size_t>(len)), acc(static_cast<size_t>(dim));
      for (int64_t i = 0; i < len; ++i) {
        const T* qi = Q.row(bh, i);
        C mx = -std::numeric_limits<C>::infinity();
        for (int64_t j = 0; j <= i; ++j) {
          s[j] = dot<C>(qi, K.row(kvh, j), dim) * C(scale);
          mx = std::max(mx, s[j]);
        }
        C sum = 0;
        std::fill(acc.begin(), acc.end(), C(0));
        for (int64_t j = 0; j <= i; ++j) {
          const C e = std::exp(s[j] - mx);
          sum += e;
          const T* vj = V.row(kvh, j);
          for (int64_t d = 0; d < dim; ++d) acc[d] += e * C(vj[d]);
        }
        T* oi = O.row(bh, i);
        for (int64_t d = 0; d < dim; ++d) oi[d] = T(acc[d] / sum);
        lse[bh * len + i] = mx + std::log(sum);
      }
    });
  });
}

// ---- backward ---------------------------------------------------------------
//   p_ij  = exp(s_ij - L_i)                    (the forward's weights, recomputed)
//   ds_ij = p_ij (dout_i . v_j - dout_i . out_i)
//   dq_i  = scale sum_j ds_ij k_j,  dk_j = scale sum_i ds_ij q_i,  dv_j = sum_i p_ij dout_i

// in (grad, q, k, v, out, lse), out (dq, dk, dv).
void causal_attention_backward_kernel(const KernelCall& call) {
  const Tensor& q = call.in[1];
  const int64_t len = q.size(2), dim = q.size(3), heads = q.size(1), kv_heads = call.in[2].size(1);
  const int64_t group = heads / kv_heads;
  const double scale = call.attrs<ops::AttentionAttrs>().scale;
  visit_floating(q.dtype(), "causal_attention_backward", [&]<class T>() {
    using C = compute_t<T>;
    const auto G = heads_of<T>(call.in[0]), Q = heads_of<T>(q), K = heads_of<T>(call.in[2]),
               V = heads_of<T>(call.in[3]), O = heads_of<T>(call.in[4]);
    const C* lse = call.in[5].data_ptr<C>();
    const auto dQ = heads_of<T>(call.out[0]), dK = heads_of<T>(call.out[1]),
               dV = heads_of<T>(call.out[2]);
    for_each_head(call.in[2], [&](int64_t kvh) {
      const auto n = static_cast<size_t>(len), d_n = static_cast<size_t>(dim);
      std::vector<C> p(n), ds(n), dq(d_n);
      std::vector<C> dk(n * d_n), dv(n * d_n);  // sums over the group's queries
      for (int64_t g = 0; g < group; ++g) {
        const int64_t bh = kvh / kv_heads * heads + kvh % kv_heads * group + g;
        for (int64_t i = 0; i < len; ++i) {
          const T *qi = Q.row(bh, i), *gi = G.row(bh, i);
          const C li = lse[bh * len + i], gi_oi = dot<C>(gi, O.row(bh, i), dim);
          for (int64_t j = 0; j <= i; ++j) {
            p[j] = std::exp(dot<C>(qi, K.row(kvh, j), dim) * C(scale) - li);
            ds[j] = p[j] * (dot<C>(gi, V.row(kvh, j), dim) - gi_oi);
          }
          std::fill(dq.begin(), dq.end(), C(0));
          for (int64_t j = 0; j <= i; ++j) {
            const T* kj = K.row(kvh, j);
            C *dkj = &dk[j * dim], *dvj = &dv[j * dim];
            for (int64_t d = 0; d < dim; ++d) {
              dq[d] += ds[j] * C(kj[d]);
              dkj[d] += ds[j] * C(qi[d]);
              dvj[d] += p[j] * C(gi[d]);
            }
          }
          T* dqi = dQ.row(bh, i);
          for (int64_t d = 0; d < dim; ++d) dqi[d] = T(dq[d] * C(scale));
        }
      }
      for (int64_t j = 0; j < len; ++j) {
        T *dkj = dK.row(kvh, j), *dvj = dV.row(kvh, j);
        for (int64_t d = 0; d < dim; ++d) {
          dkj[d] = T(dk[j * dim + d] * C(scale));
          dvj[d] = T(dv[j * dim + d]);
        }
      }
    });
  });
}

}  // namespace

DLT_REGISTER_KERNEL(causal_attention, cpu, causal_attention_kernel);
DLT_REGISTER_KERNEL(causal_attention_backward, cpu, causal_attention_backward_kernel);

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
