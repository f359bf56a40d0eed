// Fused optimizer updates: one pass reads the gradient and reads and writes
// the parameter and its state, where torch runs several elementwise ops.
// Each element is computed in the parameter's dtype with torch's order of
// operations (scalars rounded to that dtype as torch does), so results match
// torch to rounding. The op layer guarantees contiguous operands of one dtype.
// A call updates a list of parameters (layout in dlt/ops/optim_ops.h), one
// after the other, and writes each one's low-precision copy if it has one.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "dlt/ops/optim_ops.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec.h"
#include "kernels/optim_update.h"
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
// its `slots` state buffers, its copy}.
template <class F> void for_each_param(const KernelCall& c, int slots, F&& update) {
  const size_t width = size_t(optim_slots(slots));
  for (size_t i = 0; i < c.in.size(); ++i)
    update(KernelCall{c.op, c.in.subspan(i, 1), c.out.subspan(i * width, width), c.attrs_ptr});
}

// ---- the low-precision copy written in the same pass -----------------------------
// The update runs over blocks of kCopyBlock elements, and each block's new
// values are rounded into the copy (loops.h's narrow, as to() rounds) while
// they are still in L1: the f32 parameter is read from memory once.

struct NoCopy {};
constexpr int64_t kCopyBlock = 2048;

// f.operator()<C>() with C the copy's storage type: NoCopy for an undefined
// copy, else BFloat16 or Half (the op layer gives copies to f32 only).
template <class T, class F> void visit_copy(const Tensor& copy, F&& f) {
  if (!copy.defined()) return f.template operator()<NoCopy>();
  if constexpr (std::is_same_v<T, float>) {
    if (copy.dtype() == DType::bf16) return f.template operator()<BFloat16>();
    if (copy.dtype() == DType::f16) return f.template operator()<Half>();
  }
  DLT_ASSERT(false, "a {} copy of a {} parameter", copy.dtype(), dtype_of<T>());
}

// update(b, e) over the parameter's n elements p, split over threads; with a
// copy, in blocks, each rounded into the copy after its update.
template <class T, class C, class Update>
void update_elements(int64_t n, const T* p, C* copy, Update&& update) {
  for_chunks(n, [&](int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<C, NoCopy>) {
      update(begin, end);
    } else {
      for (int64_t b = begin; b < end; b += kCopyBlock) {
        const int64_t e = std::min(end, b + kCopyBlock);
        update(b, e);
        narrow(p + b, copy + b, e - b);
      }
    }
  });
}

// The update loops take their pointers as __restrict parameters and their
// scalars by value: read through the lambdas' captured references, the
// scalars might alias the stores for all the compiler knows, and GCC ran the
// loops scalar (an MLP's SGD step took half of its training time). The
// element arithmetic is kernels/optim_update.h's, shared with the GPU.

template <class T, bool kMomentum>
void sgd_chunk(const T* __restrict g, T* __restrict p, T* __restrict buf, int64_t b, int64_t e,
               const SgdUpdate<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) s.template apply<kMomentum>(g, p, buf, i);
}

// in: grad; out: param, momentum_buffer (undefined without momentum), copy.
template <class T, bool kMomentum, class C>
void sgd_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::SgdStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* buf = elements<T>(c.out[1]);
  C* copy = elements<C>(c.out[2]);
  const auto s =
      SgdUpdate<T>::of(a.lr, a.momentum, a.dampening, a.weight_decay, a.nesterov, a.first_step);
  update_elements(c.out[0].numel(), p, copy,
                  [&](int64_t b, int64_t e) { sgd_chunk<T, kMomentum>(g, p, buf, b, e, s); });
}

void sgd_step_kernel(const KernelCall& call) {
  for_each_param(call, kSgdStateSlots, [](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() {
      visit_copy<T>(c.out[2], [&]<class C>() {
        if (c.attrs<ops::SgdStepAttrs>().momentum != 0)
          sgd_update<T, true, C>(c);
        else
          sgd_update<T, false, C>(c);
      });
    });
  });
}
DLT_REGISTER_KERNEL(sgd_step, cpu, sgd_step_kernel);

template <class T>
void adam_chunk(const T* __restrict g, T* __restrict p, T* __restrict m, T* __restrict v, int64_t b,
                int64_t e, const AdamUpdate<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) s.apply(g, p, m, v, i);
}

// in: grad; out: param, exp_avg, exp_avg_sq, copy.
template <class T, class C> void adam_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::AdamStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* m = elements<T>(c.out[1]);
  T* v = elements<T>(c.out[2]);
  C* copy = elements<C>(c.out[3]);
  const auto s = AdamUpdate<T>::of(a.lr, a.beta1, a.beta2, a.eps, a.weight_decay,
                                   a.decoupled_weight_decay, a.step);
  update_elements(c.out[0].numel(), p, copy, [&](int64_t b, int64_t e) { adam_chunk<T>(g, p, m, v, b, e, s); });
}

void adam_step_kernel(const KernelCall& call) {
  for_each_param(call, kAdamStateSlots, [](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() {
      visit_copy<T>(c.out[3], [&]<class C>() { adam_update<T, C>(c); });
    });
  });
}
DLT_REGISTER_KERNEL(adam_step, cpu, adam_step_kernel);

template <class T, bool kMomentum, bool kCentered>
void rmsprop_chunk(const T* __restrict g, T* __restrict p, T* __restrict sq, T* __restrict buf,
                   T* __restrict ga, int64_t b, int64_t e, const RmspropUpdate<T> s) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) s.template apply<kMomentum, kCentered>(g, p, sq, buf, ga, i);
}

// in: grad; out: param, square_avg, momentum_buffer (undefined without
// momentum), grad_avg (undefined unless centered), copy.
template <class T, bool kMomentum, bool kCentered, class C> void rmsprop_update(const KernelCall& c) {
  const auto& a = c.attrs<ops::RmspropStepAttrs>();
  const T* g = elements<const T>(c.in[0]);
  T* p = elements<T>(c.out[0]);
  T* sq = elements<T>(c.out[1]);
  T* buf = elements<T>(c.out[2]);
  T* ga = elements<T>(c.out[3]);
  C* copy = elements<C>(c.out[4]);
  const auto s = RmspropUpdate<T>::of(a.lr, a.alpha, a.eps, a.weight_decay, a.momentum);
  update_elements(c.out[0].numel(), p, copy, [&](int64_t b, int64_t e) {
    rmsprop_chunk<T, kMomentum, kCentered>(g, p, sq, buf, ga, b, e, s);
  });
}

void rmsprop_step_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::RmspropStepAttrs>();
  const bool momentum = a.momentum > 0;
  for_each_param(call, kRmspropStateSlots, [&](const KernelCall& c) {
    visit_f32_f64(c.out[0].dtype(), [&]<class T>() {
      visit_copy<T>(c.out[4], [&]<class C>() {
        if (momentum && a.centered)
          rmsprop_update<T, true, true, C>(c);
        else if (momentum)
          rmsprop_update<T, true, false, C>(c);
        else if (a.centered)
          rmsprop_update<T, false, true, C>(c);
        else
          rmsprop_update<T, false, false, C>(c);
      });
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
