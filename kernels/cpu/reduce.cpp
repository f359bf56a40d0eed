// Reduction kernels: sum, mean, var, amax/amin, logsumexp over any dims
// (through the engine in reduce.h), and max/min/argmax/argmin along one dim.
// The op layer passes canonical dims: wrapped, sorted, unique, never empty
// unless the input is 0-dim.
#include <cmath>
#include <limits>
#include <type_traits>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// Floating types accumulate in float (f16/bf16 widen) or double; integer and
// bool sums accumulate, and are returned, in int64 (as torch).
template <class T> inline constexpr bool is_float_like = std::is_floating_point_v<compute_t<T>>;
template <class T> using sum_acc_t = std::conditional_t<is_float_like<T>, compute_t<T>, int64_t>;
template <class T> using sum_out_t = std::conditional_t<is_float_like<T>, T, int64_t>;

// ---- policies (see reduce.h) ---------------------------------------------------

template <class T, class A = sum_acc_t<T>> struct Sum {
  using Acc = A;
  Acc identity() const { return Acc(0); }
  Acc load(T v, Acc) const { return Acc(v); }
  Acc combine(Acc a, Acc b) const { return a + b; }
  Acc finish(Acc a, Acc) const { return a; }
};

template <class T> struct Mean : Sum<T> {
  using Acc = compute_t<T>;
  Acc count;
  Acc finish(Acc a, Acc) const { return a / count; }
};

// The second pass of var: squared deviations from the mean (the param).
template <class T> struct SquaredDeviation : Sum<T> {
  using Acc = compute_t<T>;
  Acc divisor;  // max(0, K - correction), as torch
  Acc load(T v, Acc mean) const {
    const Acc d = Acc(v) - mean;
    return d * d;
  }
  Acc finish(Acc a, Acc) const { return a / divisor; }
};

// The second pass of logsumexp: exp(x - max), the max being the param.
template <class T> struct SumExp : Sum<T> {
  using Acc = compute_t<T>;
  Acc load(T v, Acc max) const { return fexp(Acc(v) - max); }
  Acc finish(Acc a, Acc max) const { return std::log(a) + max; }
};

template <class T> constexpr compute_t<T> lowest() {
  if constexpr (is_float_like<T>)
    return -std::numeric_limits<compute_t<T>>::infinity();
  else
    return std::numeric_limits<T>::lowest();
}
template <class T> constexpr compute_t<T> highest() {
  if constexpr (is_float_like<T>)
    return std::numeric_limits<compute_t<T>>::infinity();
  else
    return std::numeric_limits<T>::max();
}

// nan wins, as in torch.amax (`a != a` folds away for integers).
template <class T> struct Max {
  using Acc = compute_t<T>;
  Acc identity() const { return lowest<T>(); }
  Acc load(T v, Acc) const { return Acc(v); }
  Acc combine(Acc a, Acc b) const { return (a != a || a > b) ? a : b; }
  Acc finish(Acc a, Acc) const { return a; }
};
template <class T> struct Min {
  using Acc = compute_t<T>;
  Acc identity() const { return highest<T>(); }
  Acc load(T v, Acc) const { return Acc(v); }
  Acc combine(Acc a, Acc b) const { return (a != a || a < b) ? a : b; }
  Acc finish(Acc a, Acc) const { return a; }
};

// ---- kernels over a set of dims ---------------------------------------------------

void sum_kernel(const KernelCall& c) {
  const ReducePlan plan = plan_reduction(c.in[0], c.attrs<ops::ReduceAttrs>().dims);
  visit_dtype(c.in[0].dtype(), [&]<class T>() {
    run_reduction<Sum<T>, T>(Sum<T>{}, plan, nullptr, c.out[0].data_ptr<sum_out_t<T>>());
  });
}
DLT_REGISTER_KERNEL(sum, cpu, sum_kernel);

void mean_kernel(const KernelCall& c) {
  const ReducePlan plan = plan_reduction(c.in[0], c.attrs<ops::ReduceAttrs>().dims);
  visit_floating(c.in[0].dtype(), "mean", [&]<class T>() {
    Mean<T> mean;
    mean.count = compute_t<T>(plan.reduced_count());
    run_reduction<Mean<T>, T>(mean, plan, nullptr, c.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(mean, cpu, mean_kernel);

// Two passes over the same plan: the mean, then squared deviations from it
// (stable where the one-pass E[x^2] - E[x]^2 cancels catastrophically).
void var_kernel(const KernelCall& c) {
  const auto& attrs = c.attrs<ops::VarAttrs>();
  const ReducePlan plan = plan_reduction(c.in[0], attrs.dims);
  const int64_t K = plan.reduced_count();
  visit_floating(c.in[0].dtype(), "var", [&]<class T>() {
    using Acc = compute_t<T>;
    std::vector<Acc> means(size_t(plan.outputs()));
    Mean<T> mean;
    mean.count = Acc(K);
    run_reduction<Mean<T>, T>(mean, plan, nullptr, means.data());
    SquaredDeviation<T> dev;
    dev.divisor = Acc(std::max(0.0, double(K) - attrs.correction));
    run_reduction<SquaredDeviation<T>, T>(dev, plan, means.data(), c.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(var, cpu, var_kernel);

template <template <class> class P> void extremum_kernel(const KernelCall& c) {
  const ReducePlan plan = plan_reduction(c.in[0], c.attrs<ops::ReduceAttrs>().dims);
  visit_dtype(c.in[0].dtype(), [&]<class T>() {
    run_reduction<P<T>, T>(P<T>{}, plan, nullptr, c.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(amax, cpu, extremum_kernel<Max>);
DLT_REGISTER_KERNEL(amin, cpu, extremum_kernel<Min>);

// log(sum(exp(x - m))) + m with m the max, so exp never overflows. An
// infinite max is replaced by 0 (as torch): all -inf gives -inf, +inf gives +inf.
void logsumexp_kernel(const KernelCall& c) {
  const ReducePlan plan = plan_reduction(c.in[0], c.attrs<ops::ReduceAttrs>().dims);
  visit_floating(c.in[0].dtype(), "logsumexp", [&]<class T>() {
    using Acc = compute_t<T>;
    std::vector<Acc> maxes(size_t(plan.outputs()));
    run_reduction<Max<T>, T>(Max<T>{}, plan, nullptr, maxes.data());
    for (Acc& m : maxes) m = std::isinf(m) ? Acc(0) : m;
    run_reduction<SumExp<T>, T>(SumExp<T>{}, plan, maxes.data(), c.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(logsumexp, cpu, logsumexp_kernel);

// ---- max/min with indices along one dim ---------------------------------------------

// Whether v replaces best: strictly more extreme, or the first nan (a nan
// wins over everything, as torch).
template <bool kMax, class C> inline bool more_extreme(C v, C best) {
  return (kMax ? v > best : v < best) || (v != v && best == best);
}

// The first extreme of a contiguous row: kLanes independent (value, index)
// pairs each scan every kLanes-th element (so the loop vectorises), then
// merge preferring the lower index among equal values.
template <bool kMax, class T> std::pair<compute_t<T>, int64_t> row_extremum(const T* row, int64_t K) {
  using C = compute_t<T>;
  C best = C(row[0]);
  int64_t at = 0;
  int64_t k = 1;
  if (K >= 2 * kLanes) {
    C lane_best[kLanes];
    int64_t lane_at[kLanes];
    for (int j = 0; j < kLanes; ++j) lane_best[j] = C(row[j]), lane_at[j] = j;
    const int64_t full = K - K % kLanes;
    for (k = kLanes; k < full; k += kLanes) {
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) {
        const C v = C(row[k + j]);
        const bool take = more_extreme<kMax>(v, lane_best[j]);
        lane_best[j] = take ? v : lane_best[j];
        lane_at[j] = take ? k + j : lane_at[j];
      }
    }
    best = lane_best[0], at = lane_at[0];
    for (int j = 1; j < kLanes; ++j) {
      const bool tie = !more_extreme<kMax>(best, lane_best[j]) && lane_at[j] < at;
      if (more_extreme<kMax>(lane_best[j], best) || tie) best = lane_best[j], at = lane_at[j];
    }
  }
  for (; k < K; ++k)  // the tail: later indices win only when strictly more extreme
    if (more_extreme<kMax>(C(row[k]), best)) best = C(row[k]), at = k;
  return {best, at};
}

// x viewed as [O, K, I] around `dim`: the first extreme value wins ties and
// the first nan wins over everything, as torch.
template <bool kMax, class T>
void arg_extremum(const Tensor& input, int64_t dim, T* values, int64_t* indices) {
  using C = compute_t<T>;
  const Tensor x = detail::contiguous_copy(input);
  const Shape& shape = x.shape();
  int64_t O = 1, K = 1, I = 1;
  for (int64_t d = 0; d < x.dim(); ++d) (d < dim ? O : d == dim ? K : I) *= shape[size_t(d)];
  if (O * I == 0) return;
  const T* src = x.data_ptr<T>();
  if (I == 1) {  // rows
    const int64_t grain = std::max<int64_t>(1, kReduceGrain / K);
    parallel_for(0, O, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const auto [best, at] = row_extremum<kMax>(src + o * K, K);
        if (values) values[o] = T(best);
        indices[o] = at;
      }
    });
    return;
  }
  // columns: compare whole rows at once, vectorised across I
  const int64_t tiles = detail::ceil_div(I, kColumnTile);
  const int64_t grain = std::max<int64_t>(1, kReduceGrain / (K * std::min(I, kColumnTile)));
  parallel_for(0, O * tiles, grain, [&](int64_t b, int64_t e) {
    C best[kColumnTile];
    int64_t at[kColumnTile];
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / tiles, i0 = (item % tiles) * kColumnTile;
      const int64_t w = std::min(kColumnTile, I - i0);
      const T* base = src + o * K * I + i0;
      for (int64_t i = 0; i < w; ++i) best[i] = C(base[i]), at[i] = 0;
      for (int64_t k = 1; k < K; ++k) {
        const T* row = base + k * I;
#pragma omp simd
        for (int64_t i = 0; i < w; ++i) {
          const C v = C(row[i]);
          const bool take = more_extreme<kMax>(v, best[i]);
          best[i] = take ? v : best[i];
          at[i] = take ? k : at[i];
        }
      }
      const int64_t out0 = o * I + i0;
      for (int64_t i = 0; i < w; ++i) {
        if (values) values[out0 + i] = T(best[i]);
        indices[out0 + i] = at[i];
      }
    }
  });
}

template <bool kMax> void max_dim_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::ReduceDimAttrs>().dim;
  visit_dtype(c.in[0].dtype(), [&]<class T>() {
    arg_extremum<kMax, T>(c.in[0], dim, c.out[0].data_ptr<T>(), c.out[1].data_ptr<int64_t>());
  });
}
DLT_REGISTER_KERNEL(max_dim, cpu, max_dim_kernel<true>);
DLT_REGISTER_KERNEL(min_dim, cpu, max_dim_kernel<false>);

template <bool kMax> void argmax_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::ReduceDimAttrs>().dim;
  visit_numeric(c.in[0].dtype(), kMax ? "argmax" : "argmin", [&]<class T>() {
    arg_extremum<kMax, T>(c.in[0], dim, nullptr, c.out[0].data_ptr<int64_t>());
  });
}
DLT_REGISTER_KERNEL(argmax, cpu, argmax_kernel<true>);
DLT_REGISTER_KERNEL(argmin, cpu, argmax_kernel<false>);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
