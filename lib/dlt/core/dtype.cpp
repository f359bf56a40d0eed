#include "dlt/core/dtype.h"

namespace dlt {

std::string_view dtype_name(DType t) {
  switch (t) {
#define X(name, type, str) \
  case DType::name:        \
    return str;
    DLT_DTYPES(X)
#undef X
  }
  return "?";
}

DType parse_dtype(std::string_view s) {
#define X(name, type, str) \
  if (s == str || s == #name) return DType::name;
  DLT_DTYPES(X)
#undef X
  if (s == "bool") return DType::boolean;
  if (s == "float") return DType::f32;
  if (s == "double") return DType::f64;
  if (s == "half") return DType::f16;
  if (s == "long") return DType::i64;
  if (s == "int") return DType::i32;
  throw Error(fmt::format(
      "unknown dtype '{}' (expected one of float32, float64, float16, bfloat16, int32, int64, "
      "uint8, bool)",
      s));
}

size_t dtype_size(DType t) {
  return visit_dtype(t, []<class T>() { return sizeof(T); });
}

bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16;
}

bool is_integral(DType t) { return t == DType::i32 || t == DType::i64 || t == DType::u8; }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::f16 && b == DType::bf16) || (a == DType::bf16 && b == DType::f16))
    return DType::f32;
  // Rank along bool < u8 < i32 < i64 < f16/bf16 < f32 < f64.
  auto rank = [](DType t) {
    switch (t) {
      case DType::boolean: return 0;
      case DType::u8: return 1;
      case DType::i32: return 2;
      case DType::i64: return 3;
      case DType::f16:
      case DType::bf16: return 4;
      case DType::f32: return 5;
      case DType::f64: return 6;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace dlt
