// Fused optimizer updates (see optim.h): multi-tensor launches
// (multi_tensor.cuh) in which each element is one pass that reads the
// gradient and reads and writes the parameter and its state. The element
// arithmetic and the scalars' rounding are kernels/optim_update.h's, which
// the CPU kernels share; the device may fuse multiply-adds, so results agree
// with the CPU to rounding, not bit for bit. An element's arithmetic does not
// depend on the list it is updated with. A launch may also write each
// parameter's low-precision copy from its new value (mixed precision).
// Runtime names used: cudaStream_t, cudaGetLastError.
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/optim_launch.cuh"

namespace dlt::gpu {
namespace {

// The op layer admits f32 and f64 parameters only.
template <class F> void visit_f32_f64(DTypeCode t, F&& f) {
  if (t == DTypeCode::f32) f.template operator()<float>();
  else if (t == DTypeCode::f64) f.template operator()<double>();
}

// f.operator()<C>() with C the copies' device type, void without copies
// (the op layer gives copies to f32 parameters only).
template <class T, class F> void visit_copy(std::optional<DTypeCode> copy, F&& f) {
  if (!copy) return f.template operator()<void>();
  if constexpr (std::is_same_v<T, float>) {
    if (*copy == DTypeCode::bf16) return f.template operator()<__nv_bfloat16>();
    if (*copy == DTypeCode::f16) return f.template operator()<__half>();
  }
}

// Runs `op` over every element of every parameter with kBase pointers each
// (grad, param, then the state buffers), and the copy after them unless C is
// void.
template <int kBase, class C, class Op>
void apply(std::span<const OptimTensors> tensors, const Op& op, cudaStream_t stream) {
  for (const auto& launch : optim_launch_args<kBase, C>(tensors)) multi_tensor_launch(launch, op, stream);
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

void launch_sgd_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                     std::span<const OptimTensors> tensors, const SgdScalars& a, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    visit_copy<T>(copy_dtype, [&]<class C>() {
      const auto s = SgdUpdate<T>::of(a.lr, a.momentum, a.dampening, a.weight_decay, a.nesterov,
                                      a.first_step);
      if (a.momentum != 0)
        apply<kSgdDepth, C>(tensors, SgdOp<T, true, C>{s}, stream);
      else
        apply<kSgdDepth, C>(tensors, SgdOp<T, false, C>{s}, stream);
    });
  });
}

void launch_adam_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                      std::span<const OptimTensors> tensors, const AdamScalars& a, cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    visit_copy<T>(copy_dtype, [&]<class C>() {
      const auto s = AdamUpdate<T>::of(a.lr, a.beta1, a.beta2, a.eps, a.weight_decay,
                                       a.decoupled_weight_decay, a.step);
      apply<kAdamDepth, C>(tensors, AdamOp<T, C>{s}, stream);
    });
  });
}

void launch_rmsprop_step(DTypeCode dtype, std::optional<DTypeCode> copy_dtype,
                         std::span<const OptimTensors> tensors, const RmspropScalars& a,
                         cudaStream_t stream) {
  visit_f32_f64(dtype, [&]<class T>() {
    visit_copy<T>(copy_dtype, [&]<class C>() {
      const auto s = RmspropUpdate<T>::of(a.lr, a.alpha, a.eps, a.weight_decay, a.momentum);
      const bool momentum = a.momentum > 0;
      if (momentum && a.centered)
        apply<kRmspropDepth, C>(tensors, RmspropOp<T, true, true, C>{s}, stream);
      else if (momentum)
        apply<kRmspropDepth, C>(tensors, RmspropOp<T, true, false, C>{s}, stream);
      else if (a.centered)
        apply<kRmspropDepth, C>(tensors, RmspropOp<T, false, true, C>{s}, stream);
      else
        apply<kRmspropDepth, C>(tensors, RmspropOp<T, false, false, C>{s}, stream);
    });
  });
}

}  // namespace dlt::gpu
