// Fused optimizer updates: one pass reads the gradient and reads and writes
// the parameter and its state, where torch runs several elementwise ops.
// Each element is computed in the parameter's dtype with torch's order of
// operations (scalars rounded to that dtype as torch does), so results match
// torch to rounding. The op layer guarantees contiguous operands of one dtype.
// A call updates a list of parameters (layout in dlt/ops/optim_ops.h), one
// after the other.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "dlt/ops/optim_ops.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// Pointer to a defined operand's elements, nullptr for an absent one.
template <class T> T* elements(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// The op layer admits f32 and f64 parameters only (state in the parameter's dtype).
template <class F> void visit_f32_f64(DType t, F&& f) {
  DLT_ASSERT(t == DType::f32 || t == DType::f64, "optimizer step on a {} parameter", t);
  if (t == DType::f32)
    f.template operator()<float>();
  else
    f.template operator()<double>();
}

// f(begin, end) over the elements, split over threads (elementwise, so the
// result does not depend on the split).
template <class F> void for_chunks(int64_t n, F&& f) {
  parallel_for_aligned(n, kElementwiseGrain, std::forward<F>(f));
}

// Runs `update` on each parameter's own call: in = {grad_i}, out = {param_i,
// its `slots` state buffers}.
template <class F> void for_each_param(const KernelCall& c, size_t slots, F&& update) {
  for (size_t i = 0; i < c.in.size(); ++i)
    update(KernelCall{c.op, c.in.subspan(i, 1), c.out.subspan(i * (1 + slots), 1 + slots),
                      c.attrs_ptr});
}

// The update loops take their pointers as __restrict parameters and their
// scalars by value: read through the lambdas' captured references, the
// scalars might alias the stores for all the compiler knows, and GCC ran the
// loops scalar (an MLP's SGD step took half of its training time).

template <class T> struct SgdScalars {
  bool decay, nesterov, first;
  T wd, m, keep, neg_lr;
};

template <class T, bool kMomentum>
void sgd_chunk(const T* __restrict g, T* __restrict p, T* __restrict buf, int64_t b, int64_t e,
               const SgdScalars<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    T d = s.decay ? g[i] + s.wd * p[i] : g[i];
    if constexpr (kMomentum) {
      const T v = s.first ? d : buf[i] * s.m + s.keep * d;
      buf[i] = v;
      d = s.nesterov ? d + s.m * v : v;
    }
    p[i] = p[i] + s.neg_lr * d;
  }
}

// in: grad; out: param, momentum_buffer (undefined without momentum).
template <class T, bool kMomentum>
void sgd_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::SgdStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* buf = elements<T>(c.out[1]);
  const SgdScalars<T> s{a.weight_decay != 0, a.nesterov,          a.first_step,
                        T(a.weight_decay),   T(a.momentum),       T(1 - a.dampening),
                        T(-a.lr)};
  for_chunks(c.out[0].numel(),
             [&](int64_t b, int64_t e) { sgd_chunk<T, kMomentum>(g, p, buf, b, e, s); });
}

void sgd_step_kernel(const KernelCall& call) {
  for_each_param(call, kSgdStateSlots, [](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() {
      if (c.attrs<ops::SgdStepAttrs>().momentum != 0)
        sgd_update<T, true>(c);
      else
        sgd_update<T, false>(c);
    });
  });
}
DLT_REGISTER_KERNEL(sgd_step, cpu, sgd_step_kernel);

// in: grad; out: param, exp_avg, exp_avg_sq.
template <class T> struct AdamScalars {
  bool l2, decoupled;
  T wd, shrink, b1, b2, one_b1, one_b2, eps, bc2, neg_step;
};

template <class T>
void adam_chunk(const T* __restrict g, T* __restrict p, T* __restrict m, T* __restrict v, int64_t b,
                int64_t e, const AdamScalars<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T pi = s.decoupled ? p[i] * s.shrink : p[i];
    const T gi = s.l2 ? g[i] + s.wd * pi : g[i];
    const T mi = m[i] * s.b1 + s.one_b1 * gi;
    const T vi = v[i] * s.b2 + s.one_b2 * gi * gi;
    const T denom = std::sqrt(vi) / s.bc2 + s.eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + s.neg_step * (mi / denom);
  }
}

template <class T> void adam_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::AdamStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* m = elements<T>(c.out[1]);
  T* v = elements<T>(c.out[2]);
  // Scalars in double first, as torch computes them in Python.
  const double bias1 = 1 - std::pow(a.beta1, double(a.step));
  const double bias2_sqrt = std::sqrt(1 - std::pow(a.beta2, double(a.step)));
  const bool l2 = !a.decoupled_weight_decay && a.weight_decay != 0;
  const bool decoupled = a.decoupled_weight_decay;
  const T wd = T(a.weight_decay), shrink = T(1 - a.lr * a.weight_decay);
  const T b1 = T(a.beta1), b2 = T(a.beta2), one_b1 = T(1 - a.beta1), one_b2 = T(1 - a.beta2);
  const T eps = T(a.eps), bc2 = T(bias2_sqrt), neg_step = T(-(a.lr / bias1));
  const AdamScalars<T> s{l2, decoupled, wd, shrink, b1, b2, one_b1, one_b2, eps, bc2, neg_step};
  for_chunks(c.out[0].numel(), [&](int64_t b, int64_t e) { adam_chunk<T>(g, p, m, v, b, e, s); });
}

void adam_step_kernel(const KernelCall& call) {
  for_each_param(call, kAdamStateSlots, [](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() { adam_update<T>(c); });
  });
}
DLT_REGISTER_KERNEL(adam_step, cpu, adam_step_kernel);

template <class T> struct RmspropScalars {
  bool decay;
  T wd, alpha, one_alpha, eps, mom, neg_lr;
};

template <class T, bool kMomentum, bool kCentered>
void rmsprop_chunk(const T* __restrict g, T* __restrict p, T* __restrict sq, T* __restrict buf,
                   T* __restrict ga, int64_t b, int64_t e, const RmspropScalars<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T gi = s.decay ? g[i] + s.wd * p[i] : g[i];
    const T si = sq[i] * s.alpha + s.one_alpha * gi * gi;
    sq[i] = si;
    T avg;
    if constexpr (kCentered) {
      const T ai = ga[i] * s.alpha + s.one_alpha * gi;
      ga[i] = ai;
      avg = std::sqrt(si + T(-1) * ai * ai) + s.eps;
    } else {
      avg = std::sqrt(si) + s.eps;
    }
    if constexpr (kMomentum) {
      const T bi = buf[i] * s.mom + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + s.neg_lr * bi;
    } else {
      p[i] = p[i] + s.neg_lr * (gi / avg);
    }
  }
}

// in: grad; out: param, square_avg, momentum_buffer (undefined without
// momentum), grad_avg (undefined unless centered).
template <class T, bool kMomentum, bool kCentered> void rmsprop_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::RmspropStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* sq = elements<T>(c.out[1]);
  T* buf = elements<T>(c.out[2]);
  T* ga = elements<T>(c.out[3]);
  const bool decay = a.weight_decay != 0;
  const T wd = T(a.weight_decay), alpha = T(a.alpha), one_alpha = T(1 - a.alpha);
  const T eps = T(a.eps), mom = T(a.momentum), neg_lr = T(-a.lr);
  const RmspropScalars<T> s{decay, wd, alpha, one_alpha, eps, mom, neg_lr};
  for_chunks(c.out[0].numel(), [&](int64_t b, int64_t e) {
    rmsprop_chunk<T, kMomentum, kCentered>(g, p, sq, buf, ga, b, e, s);
  });
}

void rmsprop_step_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::RmspropStepAttrs>();
  const bool momentum = a.momentum > 0;
  for_each_param(call, kRmspropStateSlots, [&](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() {
      if (momentum && a.centered)
        rmsprop_update<T, true, true>(c);
      else if (momentum)
        rmsprop_update<T, true, false>(c);
      else if (a.centered)
        rmsprop_update<T, false, true>(c);
      else
        rmsprop_update<T, false, false>(c);
    });
  });
}
DLT_REGISTER_KERNEL(rmsprop_step, cpu, rmsprop_step_kernel);

// out: found_inf, then the gradients (scaled in place). The flag is set, never
// cleared, so a chunk without non-finite values cannot undo another's find.
void unscale_check_kernel(const KernelCall& c) {
  float* found = elements<float>(c.out[0]);
  const double inv_scale = c.attrs<ops::UnscaleAttrs>().inv_scale;
  for (size_t k = 1; k < c.out.size(); ++k) {
    visit_f32_f64(c.out[k].dtype(), [&]<class T>() {
      T* g = elements<T>(c.out[k]);
      const T inv = T(inv_scale);
      for_chunks(c.out[k].numel(), [&](int64_t b, int64_t e) {
        bool bad = false;
#pragma omp simd reduction(|| : bad)
        for (int64_t i = b; i < e; ++i) {
          bad = bad || !std::isfinite(g[i]);
          g[i] = g[i] * inv;
        }
        if (bad) std::atomic_ref<float>(*found).store(1.0f, std::memory_order_relaxed);
      });
    });
  }
}
DLT_REGISTER_KERNEL(unscale_check, cpu, unscale_check_kernel);

// ---- sum_squares: in = tensors, out = [sums (n) f64] -------------------------------
// Every tensor is cut into blocks of kSquaresBlock elements; the blocks of all
// tensors are shared out over the threads, each block's sum is kept, and a
// tensor's blocks are added in order: the result is the same for every
// thread count, and small tensors (biases) cost no parallel region each.

constexpr int64_t kSquaresBlock = 1 << 15;

template <class T> double block_sum_squares(const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    vec::Float acc{};
    int64_t i = 0;
    for (; i + vec::kLanes <= n; i += vec::kLanes) {
      const vec::Float v = vec::load(x + i);
      acc = vec::fma(v, v, acc);
    }
    double s = 0;
    for (int l = 0; l < vec::kLanes; ++l) s += double(acc[l]);
    for (; i < n; ++i) s += double(x[i]) * double(x[i]);
    return s;
  } else {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
    return s;
  }
}

void sum_squares_kernel(const KernelCall& c) {
  const size_t n = c.in.size();
  std::vector<int64_t> first(n + 1, 0);  // tensor i's blocks: [first[i], first[i + 1])
  for (size_t i = 0; i < n; ++i)
    first[i + 1] = first[i] + (c.in[i].numel() + kSquaresBlock - 1) / kSquaresBlock;
  std::vector<double> partial(static_cast<size_t>(first[n]));
  parallel_for(0, first[n], 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const size_t i = size_t(std::upper_bound(first.begin(), first.end(), k) - first.begin()) - 1;
      const int64_t begin = (k - first[i]) * kSquaresBlock;
      const int64_t len = std::min(kSquaresBlock, c.in[i].numel() - begin);
      visit_f32_f64(c.in[i].dtype(), [&]<class T>() {
        partial[size_t(k)] = block_sum_squares(elements<const T>(c.in[i]) + begin, len);
      });
    }
  });
  double* sums = elements<double>(c.out[0]);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = first[i]; k < first[i + 1]; ++k) s += partial[size_t(k)];
    sums[i] = s;
  }
}
DLT_REGISTER_KERNEL(sum_squares, cpu, sum_squares_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
