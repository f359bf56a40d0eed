// Element types, their sizes and names, and PyTorch's type promotion.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "dlt/core/error.h"
#include "dlt/core/half.h"

namespace dlt {

// The X-macro of dtypes: (enum name, C++ type, printed name).
#define DLT_DTYPES(X)            \
  X(f32, float, "float32")       \
  X(f64, double, "float64")      \
  X(f16, Half, "float16")        \
  X(bf16, BFloat16, "bfloat16")  \
  X(i32, int32_t, "int32")       \
  X(i64, int64_t, "int64")       \
  X(u8, uint8_t, "uint8")        \
  X(boolean, bool, "bool")

enum class DType : uint8_t {
#define X(name, type, str) name,
  DLT_DTYPES(X)
#undef X
};
inline constexpr int kNumDTypes = 8;

std::string_view dtype_name(DType t);
DType parse_dtype(std::string_view name);  // "float32", "f32", "bool", ...
size_t dtype_size(DType t);
bool is_floating(DType t);
bool is_integral(DType t);  // integers, not bool
// The result dtype of a binary op on two tensors of the same "dimension
// priority" (torch.promote_types).
DType promote_types(DType a, DType b);

template <class T> constexpr DType dtype_of();
#define X(name, type, str) \
  template <> constexpr DType dtype_of<type>() { return DType::name; }
DLT_DTYPES(X)
#undef X

// Floating types compute in float (f16/bf16 widen), others in themselves.
template <class T> struct compute_type { using type = T; };
template <> struct compute_type<Half> { using type = float; };
template <> struct compute_type<BFloat16> { using type = float; };
template <class T> using compute_t = typename compute_type<T>::type;

// Calls f.template operator()<T>() with T the C++ type of `t`.
template <class F> decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
#define X(name, type, str) \
  case DType::name:        \
    return f.template operator()<type>();
    DLT_DTYPES(X)
#undef X
  }
  throw InternalError("visit_dtype: bad dtype");
}

// The same for the floating dtypes only; others are a user error naming `what`.
template <class F> decltype(auto) visit_floating(DType t, std::string_view what, F&& f) {
  switch (t) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::f16: return f.template operator()<Half>();
    case DType::bf16: return f.template operator()<BFloat16>();
    default: break;
  }
  throw Error(fmt::format("{} expects a floating point tensor, got {}", what, dtype_name(t)));
}

// Every numeric dtype except bool.
template <class F> decltype(auto) visit_numeric(DType t, std::string_view what, F&& f) {
  if (t == DType::boolean)
    throw Error(fmt::format("{} does not support bool tensors", what));
  return visit_dtype(t, std::forward<F>(f));
}

}  // namespace dlt

template <> struct fmt::formatter<dlt::DType> : fmt::formatter<std::string_view> {
  auto format(dlt::DType t, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(dlt::dtype_name(t), ctx);
  }
};
