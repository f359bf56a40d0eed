// Branch-free float versions of exp, log, tanh and erfc that GCC vectorises
// inside `omp simd` loops (std::exp and friends are scalar calls). Accuracy is
// within a few ulp of libm (checked against torch in the op parity tests).
// double keeps libm: no f64 kernel is on a hot path.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/isa_namespace.h"

// Always inlined: a call left out of line (GCC's inliner runs out of budget
// in a large file) keeps its `omp simd` loop scalar, one call per element; the
// cross-entropy's row loops ran 5x slower so.
#define DLT_VEC_MATH [[gnu::always_inline]] inline

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

// a * b + c, fused where the instruction set has FMA (elsewhere nothing can
// be fused, and std::fma would be a slow library call). GCC contracts a
// product and a sum on its own (in ISO C++ too), and where an addition has
// two products it picks the one to fuse by the surrounding code: a formula
// that must round alike in two kernels (GELU's slope) spells each fusion out.
template <class C> DLT_VEC_MATH C madd(C a, C b, C c) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

// exp: Cody-Waite range reduction to r in [-ln2/2, ln2/2], Cephes polynomial.
DLT_VEC_MATH float fexp(float x) {
  // Beyond hi the result overflows; below lo it underflows to 0. Between
  // -87.3 and lo the result is subnormal: the scale is applied in two
  // halves so neither power of two leaves float's range.
  const float hi = 88.7228391f, lo = -103.972084f;
  // Ternaries, not fmin/fmax: GCC vectorises these selects. Below lo (and at
  // -inf, e.g. masked attention scores) the result is 0 anyway: compute with
  // x = 0 there, since lo itself takes the scale to a subnormal 2^-150,
  // whose multiplications cost a microcode assist each (3.7x slower softmax
  // rows of a causal mask).
  const float xc = x < lo ? 0.0f : (x > hi ? hi : x);
  const float n = std::nearbyint(xc * 1.44269504088896341f);
  float r = xc - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t ni = int32_t(n);
  const int32_t half = ni / 2;
  const float scale1 = std::bit_cast<float>((half + 127) << 23);
  const float scale2 = std::bit_cast<float>((ni - half + 127) << 23);
  float result = y * scale1 * scale2;
  result = x > hi ? INFINITY : result;
  result = x < lo ? 0.0f : result;
  return x != x ? x : result;  // nan stays nan
}
inline double fexp(double x) { return std::exp(x); }

// log: split into mantissa in [sqrt(1/2), sqrt(2)) and exponent (Cephes logf).
DLT_VEC_MATH float flog(float x) {
  const bool denormal = x < 1.17549435e-38f;  // rescale so the exponent field is valid
  const float xs = denormal ? x * 8388608.0f : x;
  const int32_t bits = std::bit_cast<int32_t>(xs);
  int32_t e = ((bits >> 23) & 0xff) - 126 - (denormal ? 23 : 0);
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = float(e);
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  float result = m + y + 0.693359375f * fe;
  result = x == INFINITY ? INFINITY : result;
  result = x == 0.0f ? -INFINITY : result;
  result = x < 0.0f ? NAN : result;
  return x != x ? x : result;
}
inline double flog(double x) { return std::log(x); }

// tanh: odd polynomial near 0 (no cancellation), 1 - 2 / (exp(2|x|) + 1) beyond.
DLT_VEC_MATH float ftanh(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = 1.0f - 2.0f / (fexp(2.0f * ax) + 1.0f);
  const float signed_big = std::copysign(big, x);
  return ax < 0.625f ? small : signed_big;
}
inline double ftanh(double x) { return std::tanh(x); }

DLT_VEC_MATH float fsigmoid(float x) { return 1.0f / (1.0f + fexp(-x)); }
inline double fsigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// erfc with fractional error below ~1e-6 everywhere (Numerical Recipes'
// Chebyshev fit), so the left tail of GELU keeps its relative accuracy.
DLT_VEC_MATH float ferfc(float x) {
  const float z = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  // fma keeps the rounding error of z*z out of the exponent's argument.
  const float ans = t * fexp(std::fma(-z, z, p));
  return x >= 0.0f ? ans : 2.0f - ans;
}
inline double ferfc(double x) { return std::erfc(x); }

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
