// Layer, RMS and batch normalisation, forward and fused backward. Statistics are
// accumulated in double (the inputs are read once per pass, so the wider
// accumulator is free next to the memory traffic), elementwise passes run in
// compute_t<T>. Every reduction over rows or batch elements is split into
// blocks fixed by the shape alone and combined in block order, so results do
// not depend on the thread count.
#include <cmath>
#include <cstring>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// The dtype of saved mean / rstd: double for f64, float otherwise (the op
// layer allocates them with the matching dtype).
template <class T> using stat_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Rows reduced together: at most kMaxRowBlocks blocks, split by the row count only.
constexpr int64_t kMaxRowBlocks = 64;
struct RowBlocks {
  int64_t count, rows;  // number of blocks, rows per block (the last may have fewer)
  int64_t begin(int64_t k) const { return k * rows; }
  int64_t end(int64_t k, int64_t total) const { return std::min(total, (k + 1) * rows); }
};
RowBlocks row_blocks(int64_t total_rows) {
  const int64_t count = std::min(total_rows, kMaxRowBlocks);
  return {count, count > 0 ? (total_rows + count - 1) / count : 0};
}

// Each block's partial sums of `parts` quantities over n columns, zeroed.
// Rows are padded by a cache line: at n = 512 two rows lie 4 KiB apart, and
// each load from one waited on the store to the other (4K aliasing; layer
// norm's backward ran 2x slower).
class BlockPartials {
 public:
  BlockPartials(int64_t blocks, int64_t parts, int64_t n)
      : parts_(parts), n_(n), ld_(n + 8), data_(size_t(blocks * parts * ld_), 0.0) {}
  double* row(int64_t block, int64_t part) { return data_.data() + (block * parts_ + part) * ld_; }
  // The column sums of one quantity over the blocks, added in block order.
  std::vector<double> sum(int64_t part) const {
    std::vector<double> total(size_t(n_), 0.0);
    for (size_t k = 0; k < data_.size() / size_t(parts_ * ld_); ++k) {
      const double* r = data_.data() + (int64_t(k) * parts_ + part) * ld_;
#pragma omp simd
      for (int64_t j = 0; j < n_; ++j) total[size_t(j)] += r[j];
    }
    return total;
  }

 private:
  int64_t parts_, n_, ld_;
  std::vector<double> data_;
};

// Calls f.template operator()<has_weight, has_bias>() so the inner loops
// carry no per-element branch on absent affine parameters.
template <class F> void with_affine(bool weight, bool bias, F&& f) {
  if (weight && bias) f.template operator()<true, true>();
  else if (weight) f.template operator()<true, false>();
  else if (bias) f.template operator()<false, true>();
  else f.template operator()<false, false>();
}

template <class T> const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <class T> T* mutable_data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// ---- layer norm ------------------------------------------------------------------

// Mean and 1/sqrt(var + eps) of one row in one pass. Sums of x - x[0] keep
// the E[x^2] - E[x]^2 form from cancelling when |mean| >> std.
template <class T> std::pair<double, double> row_stats(const T* x, int64_t n, double eps) {
  using C = compute_t<T>;
  const double shift = double(C(x[0]));
  double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
  for (int64_t j = 0; j < n; ++j) {
    const double d = double(C(x[j])) - shift;
    s1 += d;
    s2 += d * d;
  }
  const double m = s1 / double(n);
  const double var = std::max(0.0, s2 / double(n) - m * m);
  return {shift + m, 1.0 / std::sqrt(var + eps)};
}

// x (M, N) rows, weight and bias (N) or absent -> y (M, N), mean and rstd (M).
template <class T> void layer_norm_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const auto& attrs = c.attrs<ops::LayerNormAttrs>();
  const Tensor& x = c.in[0];
  const int64_t M = c.out[1].numel(), N = M > 0 ? x.numel() / M : 0;
  if (x.numel() == 0) return;
  const T* xp = x.data_ptr<T>();
  const T* w = data_or_null<T>(c.in[1]);
  const T* b = data_or_null<T>(c.in[2]);
  T* yp = c.out[0].data_ptr<T>();
  S* mean = c.out[1].data_ptr<S>();
  S* rstd = c.out[2].data_ptr<S>();
  with_affine(w != nullptr, b != nullptr, [&]<bool kWeight, bool kBias>() {
    parallel_for(0, M, rows_grain(N), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xp + r * N;
        T* yr = yp + r * N;
        const auto [m, s] = row_stats(xr, N, attrs.eps);
        mean[r] = S(m);
        rstd[r] = S(s);
        const C mc = C(m), sc = C(s);
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) {
          C v = (C(xr[j]) - mc) * sc;
          if constexpr (kWeight) v *= C(w[j]);
          if constexpr (kBias) v += C(b[j]);
          yr[j] = T(v);
        }
      }
    });
  });
}

void layer_norm_kernel(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "layer_norm", [&]<class T>() { layer_norm_typed<T>(c); });
}
DLT_REGISTER_KERNEL(layer_norm, cpu, layer_norm_kernel);

// sum(dy) and sum(dy xhat) over one row, dy = grad * weight, summed in
// double: layer norm's xhat = (x - m) s (kCentered), RMS norm's x s, which
// needs no sum(dy) (0). Its own function with its operands as values: inside
// the kernels' lambdas GCC ran this reduction one element at a time (it was
// 80% of layer norm's backward).
template <class T, bool kWeight, bool kCentered>
std::pair<double, double> grad_row_sums(const T* __restrict g, const T* __restrict x,
                                        const T* __restrict w, compute_t<T> m, compute_t<T> s,
                                        int64_t n) {
  using C = compute_t<T>;
  double sum_dy = 0, sum_dy_xhat = 0;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
  for (int64_t j = 0; j < n; ++j) {
    C dy = C(g[j]);
    if constexpr (kWeight) dy *= C(w[j]);
    if constexpr (kCentered) {
      sum_dy += double(dy);
      sum_dy_xhat += double(dy * ((C(x[j]) - m) * s));
    } else {
      sum_dy_xhat += double(dy * C(x[j]) * s);
    }
  }
  return {sum_dy, sum_dy_xhat};
}

// With xhat = (x - mean) rstd and dy = grad * weight, per row:
//   grad_x = rstd (dy - mean(dy) - xhat mean(dy xhat))
// and over rows: grad_weight = sum(grad xhat), grad_bias = sum(grad).
// Inputs (grad, x, mean, rstd, weight or absent); outputs (grad_x,
// grad_weight, grad_bias), each absent when not wanted.
template <class T> void layer_norm_backward_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const Tensor &grad = c.in[0], &x = c.in[1];
  const int64_t M = c.in[2].numel(), N = M > 0 ? x.numel() / M : 0;
  if (x.numel() == 0) {
    for (size_t k = 1; k < 3; ++k)  // sums over no rows
      if (c.out[k].defined()) std::memset(c.out[k].raw_data(), 0, c.out[k].numel() * sizeof(T));
    return;
  }
  const T* gp = grad.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const S* mean = c.in[2].data_ptr<S>();
  const S* rstd = c.in[3].data_ptr<S>();
  const T* w = data_or_null<T>(c.in[4]);
  T* gx = mutable_data_or_null<T>(c.out[0]);
  T* gw = mutable_data_or_null<T>(c.out[1]);
  T* gb = mutable_data_or_null<T>(c.out[2]);
  const bool affine_grads = gw || gb;
  if (!gx && !affine_grads) return;

  const RowBlocks blocks = row_blocks(M);
  // Per block: N partial sums of grad * xhat, then N of grad.
  BlockPartials partial(affine_grads ? blocks.count : 0, 2, N);

  with_affine(w != nullptr, false, [&]<bool kWeight, bool>() {
    parallel_for(0, blocks.count, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        double* pw = affine_grads ? partial.row(k, 0) : nullptr;
        double* pb = pw ? partial.row(k, 1) : nullptr;
        for (int64_t r = blocks.begin(k); r < blocks.end(k, M); ++r) {
          const T* gr = gp + r * N;
          const T* xr = xp + r * N;
          const C m = C(mean[r]), s = C(rstd[r]);
          C a = 0, bproj = 0;  // mean(dy), mean(dy xhat)
          if (gx) {
            const auto [sum_dy, sum_dy_xhat] = grad_row_sums<T, kWeight, true>(gr, xr, w, m, s, N);
            a = C(sum_dy / double(N));
            bproj = C(sum_dy_xhat / double(N));
          }
          // One more pass over the row (in L1 now) writes grad_x and/or
          // adds the row into the block's weight / bias partials.
          T* gxr = gx ? gx + r * N : nullptr;
          auto finish_row = [&]<bool kGradX, bool kPartials>() {
#pragma omp simd
            for (int64_t j = 0; j < N; ++j) {
              const C g = C(gr[j]);
              const C xhat = (C(xr[j]) - m) * s;
              if constexpr (kGradX) {
                const C dy = kWeight ? g * C(w[j]) : g;
                gxr[j] = T(s * (dy - a - xhat * bproj));
              }
              if constexpr (kPartials) {
                pw[j] += double(g * xhat);
                pb[j] += double(g);
              }
            }
          };
          if (gx && pw) finish_row.template operator()<true, true>();
          else if (gx) finish_row.template operator()<true, false>();
          else finish_row.template operator()<false, true>();
        }
      }
    });
  });
  if (!affine_grads) return;
  const std::vector<double> sw = partial.sum(0), sb = partial.sum(1);
  for (int64_t j = 0; j < N; ++j) {
    if (gw) gw[j] = T(C(sw[size_t(j)]));
    if (gb) gb[j] = T(C(sb[size_t(j)]));
  }
}

void layer_norm_backward_kernel(const KernelCall& c) {
  visit_floating(c.in[1].dtype(), "layer_norm_backward",
                 [&]<class T>() { layer_norm_backward_typed<T>(c); });
}
DLT_REGISTER_KERNEL(layer_norm_backward, cpu, layer_norm_backward_kernel);

// ---- RMS norm ---------------------------------------------------------------------
// y = x rstd weight, rstd = 1 / sqrt(mean(x^2) + eps) per row: layer norm
// without the centring and the bias.

// x (M, N) rows, weight (N) or absent -> y (M, N), rstd (M).
template <class T> void rms_norm_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const Tensor& x = c.in[0];
  const int64_t M = c.out[1].numel(), N = M > 0 ? x.numel() / M : 0;
  if (x.numel() == 0) return;
  const double eps = c.attrs<ops::LayerNormAttrs>().eps;
  const T* xp = x.data_ptr<T>();
  const T* w = data_or_null<T>(c.in[1]);
  T* yp = c.out[0].data_ptr<T>();
  S* rstd = c.out[1].data_ptr<S>();
  with_affine(w != nullptr, false, [&]<bool kWeight, bool>() {
    parallel_for(0, M, rows_grain(N), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xp + r * N;
        T* yr = yp + r * N;
        double s2 = 0;
#pragma omp simd reduction(+ : s2)
        for (int64_t j = 0; j < N; ++j) s2 += double(C(xr[j])) * double(C(xr[j]));
        const double s = 1.0 / std::sqrt(s2 / double(N) + eps);
        rstd[r] = S(s);
        const C sc = C(s);
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) {
          C v = C(xr[j]) * sc;
          if constexpr (kWeight) v *= C(w[j]);
          yr[j] = T(v);
        }
      }
    });
  });
}

void rms_norm_kernel(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "rms_norm", [&]<class T>() { rms_norm_typed<T>(c); });
}
DLT_REGISTER_KERNEL(rms_norm, cpu, rms_norm_kernel);

// With xhat = x rstd and dy = grad * weight, per row:
//   grad_x = rstd (dy - xhat mean(dy xhat)),  grad_weight = sum over rows of grad xhat.
// Inputs (grad, x, rstd, weight or absent); outputs (grad_x, grad_weight),
// each absent when not wanted.
template <class T> void rms_norm_backward_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const Tensor &grad = c.in[0], &x = c.in[1];
  const int64_t M = c.in[2].numel(), N = M > 0 ? x.numel() / M : 0;
  T* gx = mutable_data_or_null<T>(c.out[0]);
  T* gw = mutable_data_or_null<T>(c.out[1]);
  if (x.numel() == 0) {
    if (gw) std::fill_n(gw, c.out[1].numel(), T(0.0f));  // a sum over no rows
    return;
  }
  const T* gp = grad.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const S* rstd = c.in[2].data_ptr<S>();
  const T* w = data_or_null<T>(c.in[3]);
  const RowBlocks blocks = row_blocks(M);
  BlockPartials partial(gw ? blocks.count : 0, 1, N);  // per block: N sums of grad xhat

  with_affine(w != nullptr, false, [&]<bool kWeight, bool>() {
    parallel_for(0, blocks.count, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        double* pw = gw ? partial.row(k, 0) : nullptr;
        for (int64_t r = blocks.begin(k); r < blocks.end(k, M); ++r) {
          const T* gr = gp + r * N;
          const T* xr = xp + r * N;
          const C s = C(rstd[r]);
          if (gx) {
            const C proj = C(grad_row_sums<T, kWeight, false>(gr, xr, w, C(0), s, N).second / double(N));
            T* gxr = gx + r * N;
#pragma omp simd
            for (int64_t j = 0; j < N; ++j) {
              const C dy = kWeight ? C(gr[j]) * C(w[j]) : C(gr[j]);
              gxr[j] = T(s * (dy - C(xr[j]) * s * proj));
            }
          }
          if (pw) {
#pragma omp simd
            for (int64_t j = 0; j < N; ++j) pw[j] += double(C(gr[j]) * C(xr[j]) * s);
          }
        }
      }
    });
  });
  if (!gw) return;
  const std::vector<double> sw = partial.sum(0);
  for (int64_t j = 0; j < N; ++j) gw[j] = T(C(sw[size_t(j)]));
}

void rms_norm_backward_kernel(const KernelCall& c) {
  visit_floating(c.in[1].dtype(), "rms_norm_backward",
                 [&]<class T>() { rms_norm_backward_typed<T>(c); });
}
DLT_REGISTER_KERNEL(rms_norm_backward, cpu, rms_norm_backward_kernel);

// ---- batch norm --------------------------------------------------------------------
// x is viewed as (B, C, S): S is the product of the spatial dims (1 for (B, C)).

struct Geometry3 {
  int64_t B, C, S;
};
Geometry3 batch_geometry(const Tensor& x) {
  const int64_t B = x.size(0), C = x.size(1);
  return {B, C, B * C > 0 ? x.numel() / (B * C) : 0};
}

struct Pair {
  double a, b;
};

// ---- batch norm over (B, C, S) with S > 1: each (n, c) plane is contiguous ----
// One thread owns a channel: it sums the channel's B planes with plain vector
// loads, then (forward and backward alike) makes the elementwise pass over
// the same planes while they are still in its cache. A channel's sums have a
// fixed order (planes in batch order, kLanes interleaved partial sums within
// a plane, combined lane by lane at the end), so results do not depend on
// the thread count.

constexpr int64_t kLanes = 16;  // independent double accumulators (two AVX-512 vectors)

// Adds sum(d) and sum(d^2), d = x - shift, over one plane into the lane accumulators.
template <class T> void plane_sums_shifted(const T* x, int64_t S, double shift, double* acc_a,
                                           double* acc_b) {
  using C = compute_t<T>;
  int64_t s = 0;
  for (; s + kLanes <= S; s += kLanes) {
#pragma omp simd
    for (int64_t l = 0; l < kLanes; ++l) {
      const double d = double(C(x[s + l])) - shift;
      acc_a[l] += d;
      acc_b[l] += d * d;
    }
  }
  for (int64_t l = 0; s + l < S; ++l) {
    const double d = double(C(x[s + l])) - shift;
    acc_a[l] += d;
    acc_b[l] += d * d;
  }
}

// Adds sum(g) and sum(g (x - mean)) over one plane into the lane accumulators.
template <class T> void plane_sums_grad(const T* g, const T* x, int64_t S, double mean,
                                        double* acc_a, double* acc_b) {
  using C = compute_t<T>;
  int64_t s = 0;
  for (; s + kLanes <= S; s += kLanes) {
#pragma omp simd
    for (int64_t l = 0; l < kLanes; ++l) {
      const double gv = double(C(g[s + l]));
      acc_a[l] += gv;
      acc_b[l] += gv * (double(C(x[s + l])) - mean);
    }
  }
  for (int64_t l = 0; s + l < S; ++l) {
    const double gv = double(C(g[s + l]));
    acc_a[l] += gv;
    acc_b[l] += gv * (double(C(x[s + l])) - mean);
  }
}

double sum_lanes(const double* acc) {
  double t = 0;
  for (int64_t l = 0; l < kLanes; ++l) t += acc[l];
  return t;
}

// y = (x - mean) scale + shift over one plane.
template <class T> void plane_affine(const T* x, T* y, int64_t S, compute_t<T> mean,
                                     compute_t<T> scale, compute_t<T> shift) {
  using C = compute_t<T>;
#pragma omp simd
  for (int64_t s = 0; s < S; ++s) y[s] = T((C(x[s]) - mean) * scale + shift);
}

// The constants of grad_x = (grad - grad_mean - (x - mean) proj) scale for one channel.
template <class C> struct GradXConsts {
  C mean, grad_mean, proj, scale;
};

template <class T> void plane_grad_x(const T* g, const T* x, T* gx, int64_t S,
                                     GradXConsts<compute_t<T>> k) {
  using C = compute_t<T>;
#pragma omp simd
  for (int64_t s = 0; s < S; ++s)
    gx[s] = T((C(g[s]) - k.grad_mean - (C(x[s]) - k.mean) * k.proj) * k.scale);
}

// ---- batch norm over (B, C) inputs (S == 1): channels are contiguous ----

// Per-channel sums over the rows of term(i, c) = {a, b} for element i of
// channel c: fixed blocks of rows are reduced across C (vectorised) and
// combined in block order.
template <class Term> std::pair<std::vector<double>, std::vector<double>> row_channel_sums(
    int64_t B, int64_t C, Term term) {
  const RowBlocks blocks = row_blocks(B);
  BlockPartials partial(blocks.count, 2, C);
  parallel_for(0, blocks.count, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      double* pa = partial.row(k, 0);
      double* pb = partial.row(k, 1);
      for (int64_t n = blocks.begin(k); n < blocks.end(k, B); ++n) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          const Pair p = term(n * C + c, c);
          pa[c] += p.a;
          pb[c] += p.b;
        }
      }
    }
  });
  return {partial.sum(0), partial.sum(1)};
}

// Calls f(i, c) for every element i of a (B, C) input with its channel c, vectorised over C.
template <class F> void row_channel_map(int64_t B, int64_t C, F f) {
  parallel_for(0, B, rows_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) f(n * C + c, c);
    }
  });
}

std::vector<double> read_channels(const Tensor& t) {
  std::vector<double> v(size_t(t.numel()));
  visit_floating(t.dtype(), "batch_norm running statistics", [&]<class R>() {
    const R* p = t.data_ptr<R>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = double(compute_t<R>(p[i]));
  });
  return v;
}

// running = (1 - momentum) running + momentum batch, in the running dtype.
void update_running(const Tensor& running, const std::vector<double>& batch, double momentum) {
  if (!running.defined()) return;
  visit_floating(running.dtype(), "batch_norm running statistics", [&]<class R>() {
    R* p = running.data_ptr<R>();
    for (size_t i = 0; i < batch.size(); ++i)
      p[i] = R(compute_t<R>((1 - momentum) * double(compute_t<R>(p[i])) + momentum * batch[i]));
  });
}

// Inputs (x, running_mean, running_var, weight, bias; all but x may be
// absent); outputs (y, save_mean, save_invstd). Training normalises with the
// batch statistics (biased variance) and moves the running ones towards them
// (unbiased variance), as torch; eval normalises with the running ones.
template <class T> void batch_norm_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const auto& attrs = c.attrs<ops::BatchNormAttrs>();
  const Tensor &x = c.in[0], &running_mean = c.in[1], &running_var = c.in[2];
  const Geometry3 g = batch_geometry(x);
  const T* xp = x.data_ptr<T>();
  const T* w = data_or_null<T>(c.in[3]);
  const T* b = data_or_null<T>(c.in[4]);
  T* yp = c.out[0].data_ptr<T>();
  const size_t nc = size_t(g.C);
  std::vector<double> mean(nc), var(nc), invstd(nc);
  // y = (x - mean) * scale + shift per channel.
  auto y_scale = [&](int64_t ch) { return C(invstd[size_t(ch)] * (w ? double(C(w[ch])) : 1.0)); };
  auto y_shift = [&](int64_t ch) { return b ? C(b[ch]) : C(0); };
  bool y_written = false;
  if (attrs.training) {
    // Sums of d = x - shift in one pass, shift being the channel's first
    // element, so E[d^2] - E[d]^2 does not cancel when |mean| >> std.
    const double n = double(g.B * g.S);
    auto set_stats = [&](int64_t ch, double shift, double sum_d, double sum_d2) {
      const double m = sum_d / n;
      mean[size_t(ch)] = shift + m;
      var[size_t(ch)] = std::max(0.0, sum_d2 / n - m * m);
      invstd[size_t(ch)] = 1.0 / std::sqrt(var[size_t(ch)] + attrs.eps);
    };
    if (g.S != 1) {
      // Statistics, then y, one channel at a time: the second pass finds the
      // channel's planes still in cache.
      parallel_for(0, g.C, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
          double acc_a[kLanes] = {}, acc_b[kLanes] = {};
          const double shift = double(C(xp[ch * g.S]));
          for (int64_t i = 0; i < g.B; ++i)
            plane_sums_shifted(xp + (i * g.C + ch) * g.S, g.S, shift, acc_a, acc_b);
          set_stats(ch, shift, sum_lanes(acc_a), sum_lanes(acc_b));
          const C cm = C(mean[size_t(ch)]), sc = y_scale(ch), hc = y_shift(ch);
          for (int64_t i = 0; i < g.B; ++i) {
            const int64_t off = (i * g.C + ch) * g.S;
            plane_affine(xp + off, yp + off, g.S, cm, sc, hc);
          }
        }
      });
      y_written = true;
    } else {
      std::vector<double> shift(nc);
      for (int64_t ch = 0; ch < g.C; ++ch) shift[size_t(ch)] = double(C(xp[ch]));
      const double* sh = shift.data();
      const auto [sum_d, sum_d2] = row_channel_sums(g.B, g.C, [xp, sh](int64_t i, int64_t ch) {
        const double d = double(C(xp[i])) - sh[ch];
        return Pair{d, d * d};
      });
      for (int64_t ch = 0; ch < g.C; ++ch)
        set_stats(ch, sh[ch], sum_d[size_t(ch)], sum_d2[size_t(ch)]);
    }
    update_running(running_mean, mean, attrs.momentum);
    for (double& v : var) v *= n / (n - 1);  // unbiased, for the running estimate
    update_running(running_var, var, attrs.momentum);
  } else {
    mean = read_channels(running_mean);
    var = read_channels(running_var);
    for (size_t ch = 0; ch < nc; ++ch) invstd[ch] = 1.0 / std::sqrt(var[ch] + attrs.eps);
  }
  S* save_mean = c.out[1].data_ptr<S>();
  S* save_invstd = c.out[2].data_ptr<S>();
  for (size_t ch = 0; ch < nc; ++ch) {
    save_mean[ch] = S(mean[ch]);
    save_invstd[ch] = S(invstd[ch]);
  }
  if (y_written) return;
  std::vector<C> cmean(nc), scale(nc), shift(nc);
  for (int64_t ch = 0; ch < g.C; ++ch) {
    cmean[size_t(ch)] = C(mean[size_t(ch)]);
    scale[size_t(ch)] = y_scale(ch);
    shift[size_t(ch)] = y_shift(ch);
  }
  const C *mp = cmean.data(), *sp = scale.data(), *hp = shift.data();
  if (g.S == 1) {
    row_channel_map(g.B, g.C, [=](int64_t i, int64_t ch) {
      yp[i] = T((C(xp[i]) - mp[ch]) * sp[ch] + hp[ch]);
    });
    return;
  }
  parallel_for(0, g.B * g.C, rows_grain(g.S), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t ch = r % g.C;
      plane_affine(xp + r * g.S, yp + r * g.S, g.S, mp[ch], sp[ch], hp[ch]);
    }
  });
}

void batch_norm_kernel(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "batch_norm", [&]<class T>() { batch_norm_typed<T>(c); });
}
DLT_REGISTER_KERNEL(batch_norm, cpu, batch_norm_kernel);

// Inputs (grad, x, weight or absent, save_mean, save_invstd); outputs
// (grad_x, grad_weight, grad_bias), each absent when not wanted. Per channel,
// with xhat = (x - mean) invstd over n = B S elements:
//   training  grad_x = weight invstd (grad - mean(grad) - xhat mean(grad xhat))
//   eval      grad_x = weight invstd grad   (the running statistics are constants)
//   grad_weight = sum(grad xhat), grad_bias = sum(grad).
// Both sums come from one pass (sum(grad xhat) = invstd sum(grad (x - mean))).
template <class T> void batch_norm_backward_typed(const KernelCall& c) {
  using C = compute_t<T>;
  using S = stat_t<T>;
  const bool training = c.attrs<ops::BatchNormAttrs>().training;
  const Tensor &grad = c.in[0], &x = c.in[1];
  const Geometry3 g = batch_geometry(x);
  const T* gp = grad.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const T* w = data_or_null<T>(c.in[2]);
  const S* save_mean = c.in[3].data_ptr<S>();
  const S* save_invstd = c.in[4].data_ptr<S>();
  T* gx = mutable_data_or_null<T>(c.out[0]);
  T* gw = mutable_data_or_null<T>(c.out[1]);
  T* gb = mutable_data_or_null<T>(c.out[2]);

  const size_t nc = size_t(g.C);
  const bool need_sums = gw || gb || (gx && training);
  std::vector<double> sum_g(nc, 0.0), sum_g_xhat(nc, 0.0);
  const double n = double(g.B * g.S);
  auto consts = [&](int64_t ch) {
    const double invstd = double(save_invstd[ch]);
    return GradXConsts<C>{C(save_mean[ch]), training ? C(sum_g[size_t(ch)] / n) : C(0),
                          training ? C(sum_g_xhat[size_t(ch)] / n * invstd) : C(0),
                          C(invstd * (w ? double(C(w[ch])) : 1.0))};
  };
  if (g.S != 1) {
    // The sums, then grad_x, one channel at a time: the second pass finds the
    // channel's planes of grad and x still in cache.
    parallel_for(0, g.C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        if (need_sums) {
          double acc_a[kLanes] = {}, acc_b[kLanes] = {};
          const double m = double(save_mean[ch]);
          for (int64_t i = 0; i < g.B; ++i) {
            const int64_t off = (i * g.C + ch) * g.S;
            plane_sums_grad(gp + off, xp + off, g.S, m, acc_a, acc_b);
          }
          sum_g[size_t(ch)] = sum_lanes(acc_a);
          sum_g_xhat[size_t(ch)] = sum_lanes(acc_b) * double(save_invstd[ch]);
        }
        if (!gx) continue;
        const GradXConsts<C> k = consts(ch);
        for (int64_t i = 0; i < g.B; ++i) {
          const int64_t off = (i * g.C + ch) * g.S;
          plane_grad_x(gp + off, xp + off, gx + off, g.S, k);
        }
      }
    });
  } else {
    if (need_sums) {
      std::tie(sum_g, sum_g_xhat) = row_channel_sums(g.B, g.C, [=](int64_t i, int64_t ch) {
        const double gv = double(C(gp[i]));
        return Pair{gv, gv * (double(C(xp[i])) - double(save_mean[ch])) * double(save_invstd[ch])};
      });
    }
    if (gx) {
      std::vector<GradXConsts<C>> k(nc);
      for (int64_t ch = 0; ch < g.C; ++ch) k[size_t(ch)] = consts(ch);
      const GradXConsts<C>* kp = k.data();
      row_channel_map(g.B, g.C, [=](int64_t i, int64_t ch) {
        gx[i] = T((C(gp[i]) - kp[ch].grad_mean - (C(xp[i]) - kp[ch].mean) * kp[ch].proj) *
                  kp[ch].scale);
      });
    }
  }
  for (int64_t ch = 0; ch < g.C; ++ch) {
    if (gw) gw[ch] = T(C(sum_g_xhat[size_t(ch)]));
    if (gb) gb[ch] = T(C(sum_g[size_t(ch)]));
  }
}

void batch_norm_backward_kernel(const KernelCall& c) {
  visit_floating(c.in[1].dtype(), "batch_norm_backward",
                 [&]<class T>() { batch_norm_backward_typed<T>(c); });
}
DLT_REGISTER_KERNEL(batch_norm_backward, cpu, batch_norm_backward_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
