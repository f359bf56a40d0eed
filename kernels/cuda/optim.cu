// Fused optimizer updates (see optim.h): multi-tensor launches
// (multi_tensor.cuh) in which each element is one pass that reads the
// gradient and reads and writes the parameter and its state. Scalars are
// rounded to the parameter's dtype on the host exactly as
// kernels/cpu/optim.cpp rounds them; the device may fuse multiply-adds, so
// results agree with the CPU to rounding, not bit for bit. An element's
// arithmetic does not depend on the list it is updated with.
// Runtime names used: cudaStream_t, cudaGetLastError.
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/optim.h"

namespace dlt::gpu {
namespace {

template <class T> __device__ inline T device_sqrt(T x) {
  if constexpr (std::is_same_v<T, float>) return ::sqrtf(x);
  else return ::sqrt(x);
}

// Pointers of one parameter in a multi-tensor launch: grad, param, state...
inline constexpr int kSgdDepth = 3, kAdamDepth = 4, kRmspropDepth = 5;

template <class T> struct Sgd {
  T wd, m, keep, neg_lr;
  bool decay, nesterov, first;
};

template <class T, bool kMomentum> struct SgdOp {
  Sgd<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    const T* g = static_cast<const T*>(ptr[0]);
    T* p = static_cast<T*>(ptr[1]);
    T* buf = static_cast<T*>(ptr[2]);
    T d = s.decay ? g[i] + s.wd * p[i] : g[i];
    if constexpr (kMomentum) {
      const T v = s.first ? d : buf[i] * s.m + s.keep * d;
      buf[i] = v;
      d = s.nesterov ? d + s.m * v : v;
    }
    p[i] = p[i] + s.neg_lr * d;
  }
};

template <class T> struct Adam {
  T wd, shrink, b1, b2, one_b1, one_b2, eps, bc2, neg_step;
  bool l2, decoupled;
};

template <class T> struct AdamOp {
  Adam<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    const T* g = static_cast<const T*>(ptr[0]);
    T* p = static_cast<T*>(ptr[1]);
    T* m = static_cast<T*>(ptr[2]);
    T* v = static_cast<T*>(ptr[3]);
    const T pi = s.decoupled ? p[i] * s.shrink : p[i];
    const T gi = s.l2 ? g[i] + s.wd * pi : g[i];
    const T mi = m[i] * s.b1 + s.one_b1 * gi;
    const T vi = v[i] * s.b2 + s.one_b2 * gi * gi;
    const T denom = device_sqrt(vi) / s.bc2 + s.eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + s.neg_step * (mi / denom);
  }
};

template <class T> struct Rmsprop {
  T wd, alpha, one_alpha, eps, mom, neg_lr;
  bool decay;
};

template <class T, bool kMomentum, bool kCentered> struct RmspropOp {
  Rmsprop<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    const T* g = static_cast<const T*>(ptr[0]);
    T* p = static_cast<T*>(ptr[1]);
    T* sq = static_cast<T*>(ptr[2]);
    T* buf = static_cast<T*>(ptr[3]);
    T* ga = static_cast<T*>(ptr[4]);
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
};

// The op layer admits f32 and f64 parameters only.
template <class F> void visit_f32_f64(DTypeCode t, F&& f) {
  if (t == DTypeCode::f32) f.template operator()<float>();
  else if (t == DTypeCode::f64) f.template operator()<double>();
}

// Runs `op` over every element of every parameter with kDepth pointers each:
// grad, param, then the state buffers.
template <int kDepth, class Op>
void apply(std::span<const OptimTensors> tensors, const Op& op, cudaStream_t stream) {
  std::vector<int64_t> sizes;
  sizes.reserve(tensors.size());
  for (const OptimTensors& t : tensors) sizes.push_back(t.numel);
  const auto pointer = [&](int64_t t, int k) -> void* {
    const OptimTensors& x = tensors[size_t(t)];
    return k == 0 ? const_cast<void*>(x.grad) : k == 1 ? x.param : x.state[k - 2];
  };
  multi_tensor_apply<kDepth>(sizes, pointer, op, stream);
}

template <class T> struct UnscaleOp {
  T inv;
  float* found;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    T* g = static_cast<T*>(ptr[0]);
    const T v = g[i];
    if (!isfinite(v)) *found = 1.0f;  // a benign race: every writer writes 1
    g[i] = v * inv;
  }
};

}  // namespace

void launch_unscale_check(DTypeCode dtype, std::span<void* const> grads, std::span<const int64_t> sizes,
                          float* found, double inv_scale, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    const auto pointer = [&](int64_t t, int) -> void* { return grads[size_t(t)]; };
    multi_tensor_apply<1>(sizes, pointer, UnscaleOp<T>{T(inv_scale), found}, stream);
  });
}

void launch_sgd_step(DTypeCode dtype, std::span<const OptimTensors> tensors, const SgdScalars& a,
                     cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    const Sgd<T> s{T(a.weight_decay), T(a.momentum), T(1 - a.dampening), T(-a.lr),
                   a.weight_decay != 0, a.nesterov, a.first_step};
    if (a.momentum != 0)
      apply<kSgdDepth>(tensors, SgdOp<T, true>{s}, stream);
    else
      apply<kSgdDepth>(tensors, SgdOp<T, false>{s}, stream);
  });
}

void launch_adam_step(DTypeCode dtype, std::span<const OptimTensors> tensors,
                      const AdamScalars& a, cudaStream_t stream) {
  // Scalars in double first, as torch computes them in Python.
  const double bias1 = 1 - std::pow(a.beta1, double(a.step));
  const double bias2_sqrt = std::sqrt(1 - std::pow(a.beta2, double(a.step)));
  visit_f32_f64(dtype, [&]<class T>() {
    const Adam<T> s{T(a.weight_decay), T(1 - a.lr * a.weight_decay), T(a.beta1), T(a.beta2),
                    T(1 - a.beta1), T(1 - a.beta2), T(a.eps), T(bias2_sqrt), T(-(a.lr / bias1)),
                    !a.decoupled_weight_decay && a.weight_decay != 0, a.decoupled_weight_decay};
    apply<kAdamDepth>(tensors, AdamOp<T>{s}, stream);
  });
}

void launch_rmsprop_step(DTypeCode dtype, std::span<const OptimTensors> tensors,
                         const RmspropScalars& a, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    const Rmsprop<T> s{T(a.weight_decay), T(a.alpha), T(1 - a.alpha), T(a.eps), T(a.momentum),
                       T(-a.lr), a.weight_decay != 0};
    const bool momentum = a.momentum > 0;
    if (momentum && a.centered)
      apply<kRmspropDepth>(tensors, RmspropOp<T, true, true>{s}, stream);
    else if (momentum)
      apply<kRmspropDepth>(tensors, RmspropOp<T, true, false>{s}, stream);
    else if (a.centered)
      apply<kRmspropDepth>(tensors, RmspropOp<T, false, true>{s}, stream);
    else
      apply<kRmspropDepth>(tensors, RmspropOp<T, false, false>{s}, stream);
  });
}

}  // namespace dlt::gpu
