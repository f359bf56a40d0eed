// softmax and log_softmax over one dim, and their fused backward kernels.
// Inputs are contiguous (the op layer sees to it) and seen as
// (outer, L, inner) around the softmax dim. With inner == 1 each slice is a
// contiguous row and the loops vectorise along it; otherwise a task takes up
// to kLanes adjacent slices and the loops vectorise across them.
// Every slice is computed by one thread in a fixed order: results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

constexpr int64_t kLanes = 64;

struct Slices {
  int64_t outer = 1, len = 1, inner = 1;
};

Slices slices_of(const Tensor& t, int64_t dim) {
  Slices s;
  const Shape& shape = t.shape();
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    if (d < dim) s.outer *= shape[d];
    else if (d == dim) s.len = shape[d];
    else s.inner *= shape[d];
  }
  return s;
}

// Runs row(offset) for every contiguous slice, or lanes(offset, width) for
// groups of up to kLanes adjacent strided slices; offsets are in elements.
template <class Row, class Lanes> void for_each_slice(const Slices& s, Row row, Lanes lanes) {
  if (s.outer * s.len * s.inner == 0) return;
  if (s.inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / s.len);
    parallel_for(0, s.outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) row(o * s.len);
    });
    return;
  }
  const int64_t groups = (s.inner + kLanes - 1) / kLanes;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (s.len * kLanes));
  parallel_for(0, s.outer * groups, grain, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t o = task / groups, j0 = task % groups * kLanes;
      lanes(o * s.len * s.inner + j0, std::min(kLanes, s.inner - j0));
    }
  });
}

// f32/f64 keep exp(x - max) in the output between passes; f16/bf16 would
// round it, so they recompute it.
template <class T> constexpr bool kKeepExp = std::is_same_v<T, compute_t<T>>;

// ---- forward: y = exp(x - max) / sum, or x - max - log(sum) ------------------

// float rows: explicit vector reductions (vec.h), where `omp simd reduction`
// would end each row with a 64-lane scalar epilogue; the exponentials are
// written to y, then summed from there while they are still in cache.
void softmax_row(const float* x, float* y, int64_t n, bool log) {
  const float mx = vec::max(x, n);
  vec::Float acc{};
  int64_t i = 0;
  for (; i + vec::kLanes <= n; i += vec::kLanes) {
    const vec::Float e = vec::exp(vec::load(x + i) - mx);
    vec::store(y + i, e);
    acc += e;
  }
  float sum = 0;
  for (int l = 0; l < vec::kLanes; ++l) sum += acc[l];
  for (; i < n; ++i) sum += y[i] = fexp(x[i] - mx);
  if (log) {
    const float lse = mx + flog(sum);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - lse;
    return;
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

template <class T> void softmax_row(const T* x, T* y, int64_t n, bool log) {
  using C = compute_t<T>;
  C mx = -std::numeric_limits<C>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, C(x[i]));
  C sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const C e = fexp(C(x[i]) - mx);
    if constexpr (kKeepExp<T>) y[i] = e;
    sum += e;
  }
  if (log) {
    const C lse = mx + flog(sum);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = T(C(x[i]) - lse);
    return;
  }
  const C inv = C(1) / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (kKeepExp<T>) y[i] = y[i] * inv;
    else y[i] = T(fexp(C(x[i]) - mx) * inv);
  }
}

// w adjacent slices of length n, element l of slice j at x[l * stride + j].
template <class T> void softmax_lanes(const T* x, T* y, int64_t n, int64_t stride, int64_t w,
                                      bool log) {
  using C = compute_t<T>;
  C mx[kLanes], sum[kLanes];
  std::fill_n(mx, w, -std::numeric_limits<C>::infinity());
  std::fill_n(sum, w, C(0));
  for (int64_t l = 0; l < n; ++l) {
    const T* xl = x + l * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) mx[j] = std::max(mx[j], C(xl[j]));
  }
  for (int64_t l = 0; l < n; ++l) {
    const T* xl = x + l * stride;
    T* yl = y + l * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      const C e = fexp(C(xl[j]) - mx[j]);
      if constexpr (kKeepExp<T>) yl[j] = e;
      sum[j] += e;
    }
  }
  if (log) {
    for (int64_t j = 0; j < w; ++j) sum[j] = mx[j] + flog(sum[j]);  // now log-sum-exp
    for (int64_t l = 0; l < n; ++l) {
      const T* xl = x + l * stride;
      T* yl = y + l * stride;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) yl[j] = T(C(xl[j]) - sum[j]);
    }
    return;
  }
  for (int64_t j = 0; j < w; ++j) sum[j] = C(1) / sum[j];  // now its inverse
  for (int64_t l = 0; l < n; ++l) {
    const T* xl = x + l * stride;
    T* yl = y + l * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      if constexpr (kKeepExp<T>) yl[j] = yl[j] * sum[j];
      else yl[j] = T(fexp(C(xl[j]) - mx[j]) * sum[j]);
    }
  }
}

// ins: x; out: y; attrs: the (wrapped) dim.
void softmax_kernel(const KernelCall& call) {
  const bool log = call.op == ops::OpId::log_softmax;
  const Slices s = slices_of(call.in[0], call.attrs<ops::SoftmaxAttrs>().dim);
  visit_floating(call.out[0].dtype(), ops::op_name(call.op), [&]<class T>() {
    const T* x = call.in[0].data_ptr<T>();
    T* y = call.out[0].data_ptr<T>();
    for_each_slice(
        s, [&](int64_t off) { softmax_row(x + off, y + off, s.len, log); },
        [&](int64_t off, int64_t w) { softmax_lanes(x + off, y + off, s.len, s.inner, w, log); });
  });
}
DLT_REGISTER_KERNEL(softmax, cpu, softmax_kernel);
DLT_REGISTER_KERNEL(log_softmax, cpu, softmax_kernel);

// ---- backward -------------------------------------------------------------------
// softmax:      dx = y * (g - sum(g * y))
// log_softmax:  dx = g - exp(y) * sum(g)

void backward_row(const float* g, const float* y, float* dx, int64_t n, bool log) {
  if (log) {
    const float s = vec::sum(g, n);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = g[i] - fexp(y[i]) * s;
    return;
  }
  const float s = vec::dot(g, y, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (g[i] - s);
}

template <class T> void backward_row(const T* g, const T* y, T* dx, int64_t n, bool log) {
  using C = compute_t<T>;
  C s = 0;
  if (log) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += C(g[i]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = T(C(g[i]) - fexp(C(y[i])) * s);
    return;
  }
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += C(g[i]) * C(y[i]);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = T(C(y[i]) * (C(g[i]) - s));
}

template <class T> void backward_lanes(const T* g, const T* y, T* dx, int64_t n, int64_t stride,
                                       int64_t w, bool log) {
  using C = compute_t<T>;
  C s[kLanes];
  std::fill_n(s, w, C(0));
  for (int64_t l = 0; l < n; ++l) {
    const T* gl = g + l * stride;
    const T* yl = y + l * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) s[j] += log ? C(gl[j]) : C(gl[j]) * C(yl[j]);
  }
  for (int64_t l = 0; l < n; ++l) {
    const T* gl = g + l * stride;
    const T* yl = y + l * stride;
    T* dl = dx + l * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j)
      dl[j] = log ? T(C(gl[j]) - fexp(C(yl[j])) * s[j]) : T(C(yl[j]) * (C(gl[j]) - s[j]));
  }
}

// ins: grad, y (the forward output); out: grad of x.
void softmax_backward_kernel(const KernelCall& call) {
  const bool log = call.op == ops::OpId::log_softmax_backward;
  const Slices s = slices_of(call.in[1], call.attrs<ops::SoftmaxAttrs>().dim);
  visit_floating(call.out[0].dtype(), ops::op_name(call.op), [&]<class T>() {
    const T* g = call.in[0].data_ptr<T>();
    const T* y = call.in[1].data_ptr<T>();
    T* dx = call.out[0].data_ptr<T>();
    for_each_slice(
        s, [&](int64_t off) { backward_row(g + off, y + off, dx + off, s.len, log); },
        [&](int64_t off, int64_t w) {
          backward_lanes(g + off, y + off, dx + off, s.len, s.inner, w, log);
        });
  });
}
DLT_REGISTER_KERNEL(softmax_backward, cpu, softmax_backward_kernel);
DLT_REGISTER_KERNEL(log_softmax_backward, cpu, softmax_backward_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
