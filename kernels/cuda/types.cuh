// Device-side dtype helpers for kernel sources: the C++ type of each
// DTypeCode, the type arithmetic is done in (f16/bf16 widen to float, as on
// the CPU), and a visitor that instantiates a launcher per dtype.
#pragma once

#include <type_traits>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

template <class T> struct compute_type { using type = T; };
template <> struct compute_type<__half> { using type = float; };
template <> struct compute_type<__nv_bfloat16> { using type = float; };
template <class T> using compute_t = typename compute_type<T>::type;

template <class To, class From> __host__ __device__ inline To convert(From x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (std::is_same_v<From, __half> || std::is_same_v<From, __nv_bfloat16>) {
    return static_cast<To>(static_cast<float>(x));
  } else if constexpr (std::is_same_v<To, __half>) {
    return __float2half(static_cast<float>(x));
  } else if constexpr (std::is_same_v<To, __nv_bfloat16>) {
    return __float2bfloat16(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

// Calls f.template operator()<T>() with T the device type of `code`.
template <class F> void visit_code(DTypeCode code, F&& f) {
  switch (code) {
    case DTypeCode::f32: return f.template operator()<float>();
    case DTypeCode::f64: return f.template operator()<double>();
    case DTypeCode::f16: return f.template operator()<__half>();
    case DTypeCode::bf16: return f.template operator()<__nv_bfloat16>();
    case DTypeCode::i32: return f.template operator()<int32_t>();
    case DTypeCode::i64: return f.template operator()<int64_t>();
    case DTypeCode::u8: return f.template operator()<uint8_t>();
    case DTypeCode::boolean: return f.template operator()<bool>();
  }
}

// visit_code without bool: the numeric ops (the .cpp half rejects bool first).
template <class F> void visit_numeric_code(DTypeCode code, F&& f) {
  visit_code(code, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) f.template operator()<T>();
  });
}

template <class F> void visit_floating_code(DTypeCode code, F&& f) {
  switch (code) {
    case DTypeCode::f32: return f.template operator()<float>();
    case DTypeCode::f64: return f.template operator()<double>();
    case DTypeCode::f16: return f.template operator()<__half>();
    case DTypeCode::bf16: return f.template operator()<__nv_bfloat16>();
    default: return;  // the op layer only sends floating tensors here
  }
}

}  // namespace dlt::gpu
