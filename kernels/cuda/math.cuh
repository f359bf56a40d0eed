// Device math on the compute types of the elementwise kernels: one name per
// function for float and double (the f suffix picked at compile time), so an
// op written once over C serves every floating dtype.
#pragma once

#include <type_traits>

#include "kernels/cuda/gpu.h"

namespace dlt::gpu::math {

#define DLT_GPU_MATH_1(name)                                                 \
  template <class C> __device__ inline C name(C x) {                         \
    if constexpr (std::is_same_v<C, float>) return ::name##f(x);             \
    else return ::name(double(x));                                           \
  }
DLT_GPU_MATH_1(exp)
DLT_GPU_MATH_1(log)
DLT_GPU_MATH_1(log1p)
DLT_GPU_MATH_1(sqrt)
DLT_GPU_MATH_1(sin)
DLT_GPU_MATH_1(cos)
DLT_GPU_MATH_1(tanh)
DLT_GPU_MATH_1(erfc)
#undef DLT_GPU_MATH_1

template <class C> __device__ inline C pow(C x, C y) {
  if constexpr (std::is_same_v<C, float>) return ::powf(x, y);
  else return ::pow(double(x), double(y));
}

template <class C> __device__ inline C sigmoid(C x) { return C(1) / (C(1) + exp(-x)); }

}  // namespace dlt::gpu::math
