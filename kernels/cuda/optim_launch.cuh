// What a fused optimizer launch of optim.cu runs: the per-element functors
// (kernels/optim_update.h's arithmetic, and the rounding of the new value
// into its low-precision copy) and the tables of pointers for a list of
// parameters. Everything but the launch itself, so that tests/emulated can
// run it, inside the multi-tensor kernel, on the CPU.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/multi_tensor_kernel.cuh"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/types.cuh"
#include "kernels/optim_update.h"

namespace dlt::gpu {

// Pointers of one parameter in a multi-tensor launch: grad, param, state...,
// and last, when the launch writes one, the low-precision copy.
inline constexpr int kSgdDepth = 3, kAdamDepth = 4, kRmspropDepth = 5;

// The parameter's new value rounded into its copy, pointer kBase (C = void:
// no copy). Rounded by convert<C>, as the copy kernel rounds.
template <class T, class C, int kBase> __device__ void write_copy(void* const* ptr, int64_t i) {
  if constexpr (!std::is_void_v<C>)
    static_cast<C*>(ptr[kBase])[i] = convert<C>(static_cast<const T*>(ptr[1])[i]);
}

template <class T, bool kMomentum, class C> struct SgdOp {
  SgdUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.template apply<kMomentum>(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]),
                                static_cast<T*>(ptr[2]), i);
    write_copy<T, C, kSgdDepth>(ptr, i);
  }
};

template <class T, class C> struct AdamOp {
  AdamUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.apply(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]), static_cast<T*>(ptr[2]),
            static_cast<T*>(ptr[3]), i);
    write_copy<T, C, kAdamDepth>(ptr, i);
  }
};

template <class T, bool kMomentum, bool kCentered, class C> struct RmspropOp {
  RmspropUpdate<T> s;
  __device__ void operator()(void* const* ptr, int64_t i) const {
    s.template apply<kMomentum, kCentered>(static_cast<const T*>(ptr[0]), static_cast<T*>(ptr[1]),
                                           static_cast<T*>(ptr[2]), static_cast<T*>(ptr[3]),
                                           static_cast<T*>(ptr[4]), i);
    write_copy<T, C, kRmspropDepth>(ptr, i);
  }
};

// Pointers per parameter: kBase (grad, param, state...), and the copy's
// after them unless C is void.
template <int kBase, class C> inline constexpr int kOptimDepth = kBase + (std::is_void_v<C> ? 0 : 1);

// The launches' tables for a list of parameters.
template <int kBase, class C>
std::vector<MultiTensorLaunchArg<kOptimDepth<kBase, C>>> optim_launch_args(std::span<const OptimTensors> tensors) {
  std::vector<int64_t> sizes;
  sizes.reserve(tensors.size());
  for (const OptimTensors& t : tensors) sizes.push_back(t.numel);
  const auto pointer = [&](int64_t t, int k) -> void* {
    const OptimTensors& x = tensors[size_t(t)];
    if (k == 0) return const_cast<void*>(x.grad);
    if (k == 1) return x.param;
    return k < kBase ? x.state[k - 2] : x.copy;
  };
  return multi_tensor_args<kOptimDepth<kBase, C>>(sizes, pointer);
}

}  // namespace dlt::gpu
