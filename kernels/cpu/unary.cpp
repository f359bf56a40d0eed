// Elementwise unary kernels. Float ops receive floating tensors (the op layer
// promotes integers to float32); the rest accept every numeric dtype.
#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

template <class MakeOp> void float_unary(const KernelCall& c, const char* name, MakeOp make_op) {
  visit_floating(c.out[0].dtype(), name, [&]<class T>() {
    map<T, T>(c.out[0], {&c.in[0]}, make_op.template operator()<compute_t<T>>());
  });
}

template <class MakeOp> void numeric_unary(const KernelCall& c, const char* name, MakeOp make_op) {
  visit_numeric(c.out[0].dtype(), name, [&]<class T>() {
    map<T, T>(c.out[0], {&c.in[0]}, make_op.template operator()<compute_t<T>>());
  });
}

// Defines and registers a float kernel from an expression in x (type C).
#define DLT_FLOAT_UNARY(op, expr)                                                    \
  void op##_kernel(const KernelCall& c) {                                            \
    float_unary(c, #op, []<class C>() { return [](C x) -> C { return expr; }; });    \
  }                                                                                  \
  DLT_REGISTER_KERNEL(op, cpu, op##_kernel)

#define DLT_NUMERIC_UNARY(op, expr)                                                  \
  void op##_kernel(const KernelCall& c) {                                            \
    numeric_unary(c, #op, []<class C>() { return [](C x) -> C { return expr; }; });  \
  }                                                                                  \
  DLT_REGISTER_KERNEL(op, cpu, op##_kernel)

DLT_NUMERIC_UNARY(neg, C(-x));
DLT_NUMERIC_UNARY(abs, x < C(0) ? C(-x) : x);
DLT_NUMERIC_UNARY(relu, (x != x || x > C(0)) ? x : C(0));  // nan stays nan, as torch
DLT_NUMERIC_UNARY(sign, C((C(0) < x) - (x < C(0))));
DLT_FLOAT_UNARY(exp, fexp(x));
DLT_FLOAT_UNARY(log, flog(x));
DLT_FLOAT_UNARY(log1p, std::log1p(x));
DLT_FLOAT_UNARY(sqrt, std::sqrt(x));
DLT_FLOAT_UNARY(rsqrt, C(1) / std::sqrt(x));
DLT_FLOAT_UNARY(sin, std::sin(x));
DLT_FLOAT_UNARY(cos, std::cos(x));
DLT_FLOAT_UNARY(tanh, ftanh(x));
DLT_FLOAT_UNARY(sigmoid, fsigmoid(x));
DLT_FLOAT_UNARY(silu, x * fsigmoid(x));

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

// GELU (exact) in C (float, or double for f64), and its gradient times g:
// d/dx gelu = Phi(x) + x phi(x).
// The slope is one function for gelu_backward and gelu_and_slope, so both
// round alike; its multiply-adds are spelt out (madd, vec::fma): left to
// GCC, which of two products it fuses into a sum depends on the code around
// the inlined slope, and the two kernels differed in the last bit.
template <class C> C gelu_erf(C x) { return C(0.5) * x * ferfc(-x * C(kInvSqrt2)); }
template <class C> C gelu_erf_slope(C x) {
  const C cdf = C(0.5) * ferfc(-x * C(kInvSqrt2));
  const C pdf = C(kInvSqrt2Pi) * fexp(C(-0.5) * x * x);
  return madd(x, pdf, cdf);
}
template <class C> C gelu_erf_backward(C g, C x) { return g * gelu_erf_slope(x); }

// The tanh form: 0.5 x (1 + t), t = tanh(k (x + a x^3)), and its slope.
constexpr double kGeluTanhA = 0.044715;
template <class C> C gelu_tanh_inner(C x) {
  return ftanh(C(kSqrt2OverPi) * (x + C(kGeluTanhA) * x * x * x));
}
template <class C> C gelu_tanh(C x) { return C(0.5) * x * (C(1) + gelu_tanh_inner(x)); }
template <class C> C gelu_tanh_slope(C x) {
  const C k = C(kSqrt2OverPi), a = C(kGeluTanhA), t = gelu_tanh_inner(x);
  const C sech2 = madd(-t, t, C(1)), cubic = madd(C(3) * a * x, x, C(1));
  return madd(C(0.5) * x * sech2 * k, cubic, C(0.5) * (C(1) + t));
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
// Where vec.h has its own exp and erfc (AVX-512, AVX2 with FMA); baseline
// keeps map's loops.
//
// out = vec_op(in...) on whole vectors (vec.h) and the element op on the
// last n % kLanes elements, when every operand is contiguous float of the
// output's size; false otherwise (map's turn). Which of the two computes an
// element depends on its index only, never on the thread count.
template <class VecOp, class ElementOp, class... In>
bool map_float_vectors(const KernelCall& c, VecOp vec_op, ElementOp element_op, const In&... in) {
  Tensor& out = c.out[0];
  const auto plain = [&](const Tensor& t) {
    return t.dtype() == DType::f32 && t.is_contiguous() && t.numel() == out.numel();
  };
  if (!plain(out) || !(plain(in) && ...)) return false;
  float* o = out.data_ptr<float>();
  const std::array<const float*, sizeof...(In)> src{in.template data_ptr<float>()...};
  const int64_t n = out.numel(), whole = n / vec::kLanes;
  parallel_for(0, whole, kElementwiseGrain / vec::kLanes, [&](int64_t b, int64_t e) {
    for (int64_t i = b * vec::kLanes; i < e * vec::kLanes; i += vec::kLanes)
      [&]<size_t... I>(std::index_sequence<I...>) {
        vec::store(o + i, vec_op(vec::load(src[I] + i)...));
      }(std::index_sequence_for<In...>{});
  });
  for (int64_t i = whole * vec::kLanes; i < n; ++i)
    [&]<size_t... I>(std::index_sequence<I...>) {
      o[i] = element_op(src[I][i]...);
    }(std::index_sequence_for<In...>{});
  return true;
}

// gelu_erf and gelu_erf_backward on whole vectors.
vec::Float gelu_erf(vec::Float x) { return 0.5f * x * vec::erfc(-x * float(kInvSqrt2)); }
vec::Float gelu_erf_slope(vec::Float x) {
  const vec::Float cdf = 0.5f * vec::erfc(-x * float(kInvSqrt2));
  const vec::Float pdf = float(kInvSqrt2Pi) * vec::exp(-0.5f * x * x);
  return vec::fma(x, pdf, cdf);
}
vec::Float gelu_erf_backward(vec::Float g, vec::Float x) { return g * gelu_erf_slope(x); }

// gelu_tanh and its slope on whole vectors (the element forms above, with vec::tanh).
vec::Float gelu_tanh_inner(vec::Float x) {
  return vec::tanh(float(kSqrt2OverPi) * vec::fma(x * x * x, vec::splat(float(kGeluTanhA)), x));
}
vec::Float gelu_tanh(vec::Float x) { return 0.5f * x * (1.0f + gelu_tanh_inner(x)); }
vec::Float gelu_tanh_slope(vec::Float x) {
  const vec::Float t = gelu_tanh_inner(x), one = vec::splat(1.0f);
  const vec::Float sech2 = vec::fma(-t, t, one), cubic = vec::fma(float(3 * kGeluTanhA) * x, x, one);
  return vec::fma(0.5f * x * sech2 * float(kSqrt2OverPi), cubic, 0.5f * (1.0f + t));
}
vec::Float gelu_tanh_backward(vec::Float g, vec::Float x) { return g * gelu_tanh_slope(x); }
#endif

// The approximation is chosen outside the loop: a loop-invariant branch in
// the element function keeps GCC from vectorising it.
void gelu_kernel(const KernelCall& c) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const bool on_vectors =
      c.attrs<ops::GeluAttrs>().tanh_approx
          ? map_float_vectors(c, [](vec::Float x) { return gelu_tanh(x); },
                              [](float x) { return gelu_tanh<float>(x); }, c.in[0])
          : map_float_vectors(c, [](vec::Float x) { return gelu_erf(x); },
                              [](float x) { return gelu_erf<float>(x); }, c.in[0]);
  if (on_vectors) return;
#endif
  if (c.attrs<ops::GeluAttrs>().tanh_approx) {
    float_unary(c, "gelu", []<class C>() { return [](C x) -> C { return gelu_tanh<C>(x); }; });
  } else {
    float_unary(c, "gelu", []<class C>() { return [](C x) -> C { return gelu_erf<C>(x); }; });
  }
}
DLT_REGISTER_KERNEL(gelu, cpu, gelu_kernel);

// in: grad, y = relu(x); out: grad where y > 0 or y is NaN, else 0 (as
// masked_fill(grad, y <= 0, 0), which the formula used to run).
void relu_backward_kernel(const KernelCall& c) {
  visit_floating(c.out[0].dtype(), "relu_backward", [&]<class T>() {
    using C = compute_t<T>;
    map<T, T, T>(c.out[0], {&c.in[0], &c.in[1]},
                 [](C g, C y) -> C { return y <= C(0) ? C(0) : g; });
  });
}
DLT_REGISTER_KERNEL(relu_backward, cpu, relu_backward_kernel);

// gelu and its slope, each from the function gelu and gelu_backward use
// (inlined, the shared erfc or tanh is computed once).
template <class C> struct GeluErf {
  static std::pair<C, C> of(C x) { return {gelu_erf(x), gelu_erf_slope(x)}; }
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  static vec::Float value(vec::Float x) { return gelu_erf(x); }
  static vec::Float slope(vec::Float x) { return gelu_erf_slope(x); }
#endif
};
template <class C> struct GeluTanh {
  static std::pair<C, C> of(C x) { return {gelu_tanh(x), gelu_tanh_slope(x)}; }
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  static vec::Float value(vec::Float x) { return gelu_tanh(x); }
  static vec::Float slope(vec::Float x) { return gelu_tanh_slope(x); }
#endif
};

// gelu and its slope of n elements of x, plus bias[i] with a bias (the sum in
// the compute type); without one of x itself, so -0 stays -0.
template <template <class> class Gelu, bool kBias, class T>
void gelu_and_slope_span(const T* x, const T* bias, T* y, T* slope, int64_t n) {
  using C = compute_t<T>;
  int64_t i = 0;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  if constexpr (std::is_same_v<T, float>) {
    for (; i + vec::kLanes <= n; i += vec::kLanes) {
      vec::Float v = vec::load(x + i);
      if constexpr (kBias) v = v + vec::load(bias + i);
      vec::store(y + i, Gelu<C>::value(v));
      vec::store(slope + i, Gelu<C>::slope(v));
    }
  }
#endif
  for (; i < n; ++i) {
    C v = C(x[i]);
    if constexpr (kBias) v += C(bias[i]);
    const auto [value, d] = Gelu<C>::of(v);
    y[i] = T(value);
    slope[i] = T(d);
  }
}

// in: x (contiguous), bias (its last dim, or undefined); out: gelu(x + bias),
// gelu'(x + bias) (contiguous).
template <template <class> class Gelu> void gelu_and_slope_with(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "gelu_and_slope", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    T* slope = c.out[1].data_ptr<T>();
    if (!c.in[1].defined()) {
      parallel_for_aligned(c.in[0].numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
        gelu_and_slope_span<Gelu, false>(x + b, static_cast<const T*>(nullptr), y + b, slope + b, e - b);
      });
      return;
    }
    const T* bias = c.in[1].data_ptr<T>();
    const int64_t cols = c.in[1].numel();
    if (cols == 0 || c.in[0].numel() == 0) return;  // no features or no rows: nothing to divide
    const int64_t rows = c.in[0].numel() / cols;
    parallel_for(0, rows, std::max<int64_t>(1, kElementwiseGrain / cols), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        gelu_and_slope_span<Gelu, true>(x + r * cols, bias, y + r * cols, slope + r * cols, cols);
    });
  });
}

void gelu_and_slope_kernel(const KernelCall& c) {
  if (c.attrs<ops::GeluAttrs>().tanh_approx)
    gelu_and_slope_with<GeluTanh>(c);
  else
    gelu_and_slope_with<GeluErf>(c);
}
DLT_REGISTER_KERNEL(gelu_and_slope, cpu, gelu_and_slope_kernel);

// ins: grad, slope (R, N) contiguous; out: grad * slope (R, N) and its sum over
// the rows (N). The rows are summed in blocks whose size depends on R alone,
// each block by one thread, then the blocks in order: the same bits for any
// thread count.
void gelu_bias_backward_kernel(const KernelCall& c) {
  visit_floating(c.out[0].dtype(), "gelu_bias_backward", [&]<class T>() {
    using C = compute_t<T>;
    const T* g = c.in[0].data_ptr<T>();
    const T* s = c.in[1].data_ptr<T>();
    T* dx = c.out[0].data_ptr<T>();
    const int64_t cols = c.out[1].numel(), rows = cols == 0 ? 0 : c.out[0].numel() / cols;
    constexpr int64_t kMaxBlocks = 256;
    const int64_t block_rows = std::max<int64_t>(32, (rows + kMaxBlocks - 1) / kMaxBlocks);
    const int64_t blocks = (rows + block_rows - 1) / block_rows;
    std::vector<C> partial(static_cast<size_t>(blocks * cols), C(0));
    parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        C* acc = partial.data() + k * cols;
        for (int64_t r = k * block_rows; r < std::min(rows, (k + 1) * block_rows); ++r) {
          const T *gr = g + r * cols, *sr = s + r * cols;
          T* dr = dx + r * cols;
#pragma omp simd
          for (int64_t j = 0; j < cols; ++j) {
            const T d = T(C(gr[j]) * C(sr[j]));
            dr[j] = d;
            acc[j] += C(d);
          }
        }
      }
    });
    T* dbias = c.out[1].data_ptr<T>();
    for (int64_t j = 0; j < cols; ++j) {
      C total = 0;
      for (int64_t k = 0; k < blocks; ++k) total += partial[size_t(k * cols + j)];
      dbias[j] = T(total);
    }
  });
}
DLT_REGISTER_KERNEL(gelu_bias_backward, cpu, gelu_bias_backward_kernel);

// d/dx gelu: exact  Phi(x) + x phi(x); tanh  0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 a x^2).
template <class MakeOp> void gelu_backward_with(const KernelCall& c, MakeOp make_op) {
  visit_floating(c.out[0].dtype(), "gelu_backward", [&]<class T>() {
    map<T, T, T>(c.out[0], {&c.in[0], &c.in[1]}, make_op.template operator()<compute_t<T>>());
  });
}

void gelu_backward_kernel(const KernelCall& c) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const bool on_vectors =
      c.attrs<ops::GeluAttrs>().tanh_approx
          ? map_float_vectors(c, [](vec::Float g, vec::Float x) { return gelu_tanh_backward(g, x); },
                              [](float g, float x) { return g * gelu_tanh_slope<float>(x); }, c.in[0],
                              c.in[1])
          : map_float_vectors(c, [](vec::Float g, vec::Float x) { return gelu_erf_backward(g, x); },
                              [](float g, float x) { return gelu_erf_backward<float>(g, x); },
                              c.in[0], c.in[1]);
  if (on_vectors) return;
#endif
  if (c.attrs<ops::GeluAttrs>().tanh_approx) {
    gelu_backward_with(c, []<class C>() { return [](C g, C x) -> C { return g * gelu_tanh_slope(x); }; });
  } else {
    gelu_backward_with(
        c, []<class C>() { return [](C g, C x) -> C { return gelu_erf_backward<C>(g, x); }; });
  }
}
DLT_REGISTER_KERNEL(gelu_backward, cpu, gelu_backward_kernel);

void softplus_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::SoftplusAttrs>();
  float_unary(c, "softplus", [&]<class C>() {
    const C beta = C(a.beta), threshold = C(a.threshold);
    // Linear above the threshold, as torch, to avoid exp overflow.
    return [=](C x) -> C {
      return x * beta > threshold ? x : C(std::log1p(fexp(x * beta))) / beta;
    };
  });
}
DLT_REGISTER_KERNEL(softplus, cpu, softplus_kernel);

void pow_scalar_kernel(const KernelCall& c) {
  const double e = c.attrs<ops::ScalarAttrs>().value;
  if (e == 2) {  // the common square, chosen outside the loop so it vectorises
    numeric_unary(c, "pow", []<class C>() { return [](C x) -> C { return C(x * x); }; });
    return;
  }
  numeric_unary(c, "pow", [&]<class C>() {
    return [e](C x) -> C {
      if constexpr (std::is_floating_point_v<C>)
        return C(std::pow(x, C(e)));
      else
        return C(std::llround(std::pow(double(x), e)));
    };
  });
}
DLT_REGISTER_KERNEL(pow_scalar, cpu, pow_scalar_kernel);

void clamp_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::ClampAttrs>();
  numeric_unary(c, "clamp", [&]<class C>() {
    const double lo = a.lo, hi = a.hi;
    return [lo, hi](C x) -> C {
      // nan stays nan (comparisons are false); with lo > hi the result is hi, as torch.
      const C r = double(x) < lo ? C(lo) : x;
      return double(r) > hi ? C(hi) : r;
    };
  });
}
DLT_REGISTER_KERNEL(clamp, cpu, clamp_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
