// Fused optimizer updates (see optim.h): multi-tensor launches
// (multi_tensor.cuh) in which each element is one pass that reads the
// gradient and reads and writes the parameter and its state. The element
// arithmetic and the scalars' rounding are kernels/optim_update.h's, which
// the CPU kernels share; the device may fuse multiply-adds, so results agree
// with the CPU to rounding, not bit for bit. An element's arithmetic does not
// depend on the list it is updated with.
// Runtime names used: cudaStream_t, cudaGetLastError.
#include <cmath>
#include <vector>

#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/optim.h"
#include "kernels/optim_update.h"

namespace dlt::gpu {
namespace {

// Pointers of one parameter in a multi-tensor launch: grad, param, state...
inline constexpr int kSgdDepth = 3, kAdamDepth = 4, kRmspropDepth = 5;

template <class T, bool kMomentum> struct SgdOp {
  SgdUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.template apply<kMomentum>(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]),
                                static_cast<T*>(ptr[2]), i);
  }
};

template <class T> struct AdamOp {
  AdamUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.apply(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]), static_cast<T*>(ptr[2]),
            static_cast<T*>(ptr[3]), i);
  }
};

template <class T, bool kMomentum, bool kCentered> struct RmspropOp {
  RmspropUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.template apply<kMomentum, kCentered>(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]),
                                           static_cast<T*>(ptr[2]), static_cast<T*>(ptr[3]),
                                           static_cast<T*>(ptr[4]), i);
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
    const auto s = SgdUpdate<T>::of(a.lr, a.momentum, a.dampening, a.weight_decay, a.nesterov,
                                    a.first_step);
    if (a.momentum != 0)
      apply<kSgdDepth>(tensors, SgdOp<T, true>{s}, stream);
    else
      apply<kSgdDepth>(tensors, SgdOp<T, false>{s}, stream);
  });
}

void launch_adam_step(DTypeCode dtype, std::span<const OptimTensors> tensors,
                      const AdamScalars& a, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    const auto s = AdamUpdate<T>::of(a.lr, a.beta1, a.beta2, a.eps, a.weight_decay,
                                     a.decoupled_weight_decay, a.step);
    apply<kAdamDepth>(tensors, AdamOp<T>{s}, stream);
  });
}

void launch_rmsprop_step(DTypeCode dtype, std::span<const OptimTensors> tensors,
                         const RmspropScalars& a, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    const auto s = RmspropUpdate<T>::of(a.lr, a.alpha, a.eps, a.weight_decay, a.momentum);
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
