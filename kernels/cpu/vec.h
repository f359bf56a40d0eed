// Explicit float vectors, the widest of the instruction set a kernel file is
// compiled for (kernels/cpu/isa_namespace.h), for the loops GCC's
// auto-vectoriser serves poorly: register tiles (small_gemm.h) and short
// reductions, where `omp simd reduction` ends every row with a 64-lane scalar
// epilogue. Reductions run in a fixed order: the result depends only on n.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE::vec {

#if defined(__AVX512F__)
inline constexpr int kLanes = 16;
inline constexpr int kRegisters = 32;
#elif defined(__AVX__)
inline constexpr int kLanes = 8;
inline constexpr int kRegisters = 16;
#else
inline constexpr int kLanes = 4;
inline constexpr int kRegisters = 16;
#endif
using Float = float __attribute__((vector_size(kLanes * sizeof(float))));

inline Float load(const float* p) {
  Float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Float v) { std::memcpy(p, &v, sizeof v); }
inline Float splat(float x) {
#if defined(__AVX512F__)
  return _mm512_set1_ps(x);
#elif defined(__AVX__)
  return _mm256_set1_ps(x);
#else
  return _mm_set1_ps(x);
#endif
}

// acc + a * b, fused where the instruction set has it (the project builds
// with ISO C++, where GCC does not contract a * b + c on its own).
inline Float fma(Float a, Float b, Float acc) {
#if defined(__AVX512F__)
  return _mm512_fmadd_ps(a, b, acc);
#elif defined(__FMA__)
  return _mm256_fmadd_ps(a, b, acc);
#else
  return acc + a * b;
#endif
}

inline Float max(Float a, Float b) { return a > b ? a : b; }

// sum and max of x[0, n).
inline float sum(const float* x, int64_t n) {
  Float acc{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) acc += load(x + i);
  float s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (; i < n; ++i) s += x[i];
  return s;
}

inline float max(const float* x, int64_t n) {
  constexpr float lowest = -std::numeric_limits<float>::infinity();
  Float acc = splat(lowest);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) acc = max(acc, load(x + i));
  float m = lowest;
  for (int l = 0; l < kLanes; ++l) m = std::max(m, acc[l]);
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

// sum of a[i] * b[i] over [0, n).
inline float dot(const float* a, const float* b, int64_t n) {
  Float acc{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) acc = fma(load(a + i), load(b + i), acc);
  float s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE::vec
