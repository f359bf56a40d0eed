// Fused optimizer updates (see optim.h): one grid-stride pass over the
// elements reads the gradient and reads and writes the parameter and its
// state. Scalars are rounded to the parameter's dtype on the host exactly as
// kernels/cpu/optim.cpp rounds them; the device may fuse multiply-adds, so
// results agree with the CPU to rounding, not bit for bit.
// Runtime names used: cudaStream_t, cudaGetLastError.
#include <cmath>

#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/optim.h"

namespace dlt::gpu {
namespace {

template <class T> __device__ inline T device_sqrt(T x) {
  if constexpr (std::is_same_v<T, float>) return ::sqrtf(x);
  else return ::sqrt(x);
}

#define DLT_FOR_EACH_ELEMENT(i, n)                                                   \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);          \
       i += int64_t(gridDim.x) * blockDim.x)

template <class T> struct Sgd {
  T wd, m, keep, neg_lr;
  bool decay, nesterov, first;
};

template <class T, bool kMomentum>
__global__ void sgd_kernel(int64_t n, const T* g, T* p, T* buf, Sgd<T> s) {
  DLT_FOR_EACH_ELEMENT(i, n) {
    T d = s.decay ? g[i] + s.wd * p[i] : g[i];
    if constexpr (kMomentum) {
      const T v = s.first ? d : buf[i] * s.m + s.keep * d;
      buf[i] = v;
      d = s.nesterov ? d + s.m * v : v;
    }
    p[i] = p[i] + s.neg_lr * d;
  }
}

template <class T> struct Adam {
  T wd, shrink, b1, b2, one_b1, one_b2, eps, bc2, neg_step;
  bool l2, decoupled;
};

template <class T> __global__ void adam_kernel(int64_t n, const T* g, T* p, T* m, T* v, Adam<T> s) {
  DLT_FOR_EACH_ELEMENT(i, n) {
    const T pi = s.decoupled ? p[i] * s.shrink : p[i];
    const T gi = s.l2 ? g[i] + s.wd * pi : g[i];
    const T mi = m[i] * s.b1 + s.one_b1 * gi;
    const T vi = v[i] * s.b2 + s.one_b2 * gi * gi;
    const T denom = device_sqrt(vi) / s.bc2 + s.eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + s.neg_step * (mi / denom);
  }
}

template <class T> struct Rmsprop {
  T wd, alpha, one_alpha, eps, mom, neg_lr;
  bool decay;
};

template <class T, bool kMomentum, bool kCentered>
__global__ void rmsprop_kernel(int64_t n, const T* g, T* p, T* sq, T* buf, T* ga, Rmsprop<T> s) {
  DLT_FOR_EACH_ELEMENT(i, n) {
    const T gi = s.decay ? g[i] + s.wd * p[i] : g[i];
    const T si = sq[i] * s.alpha + s.one_alpha * gi * gi;
    sq[i] = si;
    T avg;
    if constexpr (kCentered) {
      const T ai = ga[i] * s.alpha + s.one_alpha * gi;
      ga[i] = ai;
      avg = device_sqrt(si + T(-1) * ai * ai) + s.eps;
    } else {
      avg = device_sqrt(si) + s.eps;
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

#undef DLT_FOR_EACH_ELEMENT

// The op layer admits f32 and f64 parameters only.
template <class F> void visit_f32_f64(DTypeCode t, F&& f) {
  if (t == DTypeCode::f32) f.template operator()<float>();
  else if (t == DTypeCode::f64) f.template operator()<double>();
}

}  // namespace

void launch_sgd_step(DTypeCode dtype, int64_t n, const void* grad, void* param, void* buf,
                     const SgdScalars& a, cudaStream_t stream) {
  if (n == 0) return;
  visit_f32_f64(dtype, [&]<class T>() {
    const Sgd<T> s{T(a.weight_decay), T(a.momentum), T(1 - a.dampening), T(-a.lr),
                   a.weight_decay != 0, a.nesterov, a.first_step};
    const T* g = static_cast<const T*>(grad);
    T* p = static_cast<T*>(param);
    if (a.momentum != 0)
      sgd_kernel<T, true><<<blocks_for(n), kThreads, 0, stream>>>(n, g, p, static_cast<T*>(buf), s);
    else
      sgd_kernel<T, false><<<blocks_for(n), kThreads, 0, stream>>>(n, g, p, nullptr, s);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_adam_step(DTypeCode dtype, int64_t n, const void* grad, void* param, void* exp_avg,
                      void* exp_avg_sq, const AdamScalars& a, cudaStream_t stream) {
  if (n == 0) return;
  // Scalars in double first, as torch computes them in Python.
  const double bias1 = 1 - std::pow(a.beta1, double(a.step));
  const double bias2_sqrt = std::sqrt(1 - std::pow(a.beta2, double(a.step)));
  visit_f32_f64(dtype, [&]<class T>() {
    const Adam<T> s{T(a.weight_decay), T(1 - a.lr * a.weight_decay), T(a.beta1), T(a.beta2),
                    T(1 - a.beta1), T(1 - a.beta2), T(a.eps), T(bias2_sqrt), T(-(a.lr / bias1)),
                    !a.decoupled_weight_decay && a.weight_decay != 0, a.decoupled_weight_decay};
    adam_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        n, static_cast<const T*>(grad), static_cast<T*>(param), static_cast<T*>(exp_avg),
        static_cast<T*>(exp_avg_sq), s);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_rmsprop_step(DTypeCode dtype, int64_t n, const void* grad, void* param,
                         void* square_avg, void* buf, void* grad_avg, const RmspropScalars& a,
                         cudaStream_t stream) {
  if (n == 0) return;
  visit_f32_f64(dtype, [&]<class T>() {
    const Rmsprop<T> s{T(a.weight_decay), T(a.alpha), T(1 - a.alpha), T(a.eps), T(a.momentum),
                       T(-a.lr), a.weight_decay != 0};
    const T* g = static_cast<const T*>(grad);
    T* p = static_cast<T*>(param);
    T* sq = static_cast<T*>(square_avg);
    T* b = static_cast<T*>(buf);
    T* ga = static_cast<T*>(grad_avg);
    const int64_t blocks = blocks_for(n);
    const bool momentum = a.momentum > 0;
    if (momentum && a.centered)
      rmsprop_kernel<T, true, true><<<blocks, kThreads, 0, stream>>>(n, g, p, sq, b, ga, s);
    else if (momentum)
      rmsprop_kernel<T, true, false><<<blocks, kThreads, 0, stream>>>(n, g, p, sq, b, ga, s);
    else if (a.centered)
      rmsprop_kernel<T, false, true><<<blocks, kThreads, 0, stream>>>(n, g, p, sq, b, ga, s);
    else
      rmsprop_kernel<T, false, false><<<blocks, kThreads, 0, stream>>>(n, g, p, sq, b, ga, s);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
