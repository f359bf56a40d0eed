// The fused optimizer updates of one element, in torch's order of operations,
// with their scalars rounded to the parameter's dtype once on the host: one
// definition for the CPU kernels (kernels/cpu/optim.cpp, compiled once per
// instruction set, so this lands in that set's namespace) and the GPU ones
// (kernels/cuda/optim.cu, under nvcc or hipcc). The device may fuse
// multiply-adds, so the two agree to rounding, not bit for bit.
//
// Each update reads element i of the gradient and reads and writes element i
// of the parameter and its state; a pointer to absent state (no momentum,
// not centered) is never read.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define DLT_OPTIM_UPDATE __host__ __device__ inline
namespace dlt::gpu {
#else
#include "kernels/cpu/isa_namespace.h"
// Inlined into the callers' `omp simd` loops, which otherwise call it per element.
#define DLT_OPTIM_UPDATE [[gnu::always_inline]] inline
namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
#endif

template <class T> DLT_OPTIM_UPDATE T optim_sqrt(T x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  if constexpr (std::is_same_v<T, float>) return ::sqrtf(x);
  else return ::sqrt(x);
#else
  return std::sqrt(x);
#endif
}

// The weight-decayed gradient g + wd·p in one rounding, as torch's
// grad.add(param, alpha=wd) computes it on CPUs with FMA and on GPUs. Where
// decay nearly cancels the gradient, a rounded product would carry its error
// into the state of every later step. Without FMA instructions: f32 through
// f64, whose product is exact; f64 with two roundings (a software fma would
// cost more than the whole update).
template <class T> DLT_OPTIM_UPDATE T decayed(T g, T wd, T p) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  if constexpr (std::is_same_v<T, float>) return ::fmaf(wd, p, g);
  else return ::fma(wd, p, g);
#elif defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  return std::fma(wd, p, g);
#else
  if constexpr (std::is_same_v<T, float>) return float(double(g) + double(wd) * double(p));
  else return g + wd * p;
#endif
}

template <class T> struct SgdUpdate {
  bool decay, nesterov, first;  // first: the momentum buffer starts as the update itself
  T wd, m, keep, neg_lr;

  static SgdUpdate of(double lr, double momentum, double dampening, double weight_decay,
                      bool nesterov, bool first_step) {
    return {weight_decay != 0, nesterov, first_step, T(weight_decay), T(momentum),
            T(1 - dampening), T(-lr)};
  }

  // buf: the momentum buffer (read only with kMomentum).
  template <bool kMomentum>
  DLT_OPTIM_UPDATE void apply(const T* g, T* p, T* buf, int64_t i) const {
    T d = decay ? decayed(g[i], wd, p[i]) : g[i];
    if constexpr (kMomentum) {
      const T v = first ? d : buf[i] * m + keep * d;
      buf[i] = v;
      d = nesterov ? d + m * v : v;
    }
    p[i] = p[i] + neg_lr * d;
  }
};

template <class T> struct AdamUpdate {
  bool l2, decoupled;  // weight decay on the gradient (Adam) or the parameter (AdamW)
  T wd, shrink, b1, b2, one_b1, one_b2, eps, bc2, neg_step;

  // step: the step being taken, from 1 (bias corrections).
  static AdamUpdate of(double lr, double beta1, double beta2, double eps, double weight_decay,
                       bool decoupled_weight_decay, int64_t step) {
    // Scalars in double first, as torch computes them in Python.
    const double bias1 = 1 - std::pow(beta1, double(step));
    const double bias2_sqrt = std::sqrt(1 - std::pow(beta2, double(step)));
    return {!decoupled_weight_decay && weight_decay != 0,
            decoupled_weight_decay,
            T(weight_decay),
            T(1 - lr * weight_decay),
            T(beta1),
            T(beta2),
            T(1 - beta1),
            T(1 - beta2),
            T(eps),
            T(bias2_sqrt),
            T(-(lr / bias1))};
  }

  // m, v: exp_avg, exp_avg_sq.
  DLT_OPTIM_UPDATE void apply(const T* g, T* p, T* m, T* v, int64_t i) const {
    const T pi = decoupled ? p[i] * shrink : p[i];
    const T gi = l2 ? decayed(g[i], wd, pi) : g[i];
    const T mi = m[i] * b1 + one_b1 * gi;
    const T vi = v[i] * b2 + one_b2 * gi * gi;
    const T denom = optim_sqrt(vi) / bc2 + eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + neg_step * (mi / denom);
  }
};

template <class T> struct RmspropUpdate {
  bool decay;
  T wd, alpha, one_alpha, eps, mom, neg_lr;

  static RmspropUpdate of(double lr, double alpha, double eps, double weight_decay,
                          double momentum) {
    return {weight_decay != 0, T(weight_decay), T(alpha), T(1 - alpha), T(eps), T(momentum),
            T(-lr)};
  }

  // sq: square_avg; buf: momentum_buffer (read only with kMomentum); ga:
  // grad_avg (read only with kCentered).
  template <bool kMomentum, bool kCentered>
  DLT_OPTIM_UPDATE void apply(const T* g, T* p, T* sq, T* buf, T* ga, int64_t i) const {
    const T gi = decay ? decayed(g[i], wd, p[i]) : g[i];
    const T si = sq[i] * alpha + one_alpha * gi * gi;
    sq[i] = si;
    T avg;
    if constexpr (kCentered) {
      const T ai = ga[i] * alpha + one_alpha * gi;
      ga[i] = ai;
      avg = optim_sqrt(si + T(-1) * ai * ai) + eps;
    } else {
      avg = optim_sqrt(si) + eps;
    }
    if constexpr (kMomentum) {
      const T bi = buf[i] * mom + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + neg_lr * bi;
    } else {
      p[i] = p[i] + neg_lr * (gi / avg);
    }
  }
};

#undef DLT_OPTIM_UPDATE

}  // namespace
