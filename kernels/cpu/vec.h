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
#include <utility>

#include "kernels/cpu/isa_namespace.h"
#include "kernels/cpu/vec_math.h"

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

// acc + a * b, fused where the instruction set has it (as madd in
// vec_math.h: spelt out where the rounding must not be left to GCC's
// contraction).
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

// f on each lane, in an `omp simd` loop GCC vectorises (the fallback of the
// functions below in the sets without their own vector math).
template <class F> inline Float per_lane(Float x, F f) {
  float in[kLanes], out[kLanes];
  store(in, x);
#pragma omp simd
  for (int l = 0; l < kLanes; ++l) out[l] = f(in[l]);
  return load(out);
}

// exp of each lane, as fexp (vec_math.h): the same range reduction and
// polynomial, with AVX-512's scalef applying 2^n (overflow to inf) in one
// instruction where fexp needs two scales and three selects. Results below
// FLT_MIN (x < ln FLT_MIN = -87.34) are 0, where fexp gives the subnormal:
// every instruction that produces or reads a subnormal costs a microcode
// assist (GELU over inputs of std 10 ran 8x slower than over std 1). AVX2
// applies 2^n in two halves and gives the same results; other sets run
// fexp over the lanes (per_lane).
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
// e^x / 2^n for n = round(x log2 e): e^r on r = x - n ln 2, ln 2 in two
// parts (fexp's reduction and polynomial).
inline Float exp_of_remainder(Float x, Float n) {
  Float r = fma(n, splat(-0.693359375f), x);
  r = fma(n, splat(2.12194440e-4f), r);
  Float p = splat(1.9875691500e-4f);
  p = fma(p, r, splat(1.3981999507e-3f));
  p = fma(p, r, splat(8.3334519073e-3f));
  p = fma(p, r, splat(4.1665795894e-2f));
  p = fma(p, r, splat(1.6666665459e-1f));
  p = fma(p, r, splat(5.0000001201e-1f));
  return fma(p, r * r, r + 1.0f);
}
#endif

inline Float exp(Float x) {
#if defined(__AVX512F__)
  // The maskz forms: the plain ones pass an undefined source that GCC 12
  // warns about. Lanes below ln FLT_MIN (-inf too: masked attention scores)
  // give 0 and are computed from x = 0. Above, x is clamped so that n stays
  // finite (+inf gives inf); vminps returns its second operand, x, when it
  // is NaN.
  constexpr __mmask16 all = 0xffff;
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, splat(-87.3365447f), _CMP_LT_OQ);
  x = _mm512_maskz_min_ps(static_cast<__mmask16>(~tiny), splat(100.0f), x);
  const Float n =
      _mm512_maskz_roundscale_ps(all, x * 1.44269504088896341f, _MM_FROUND_TO_NEAREST_INT);
  const Float y = exp_of_remainder(x, n);
  return _mm512_maskz_scalef_ps(static_cast<__mmask16>(~tiny), y, n);
#elif defined(__AVX2__) && defined(__FMA__)
  // The same, with 2^n applied in two halves through the exponent field
  // (AVX2 has no scalef; n reaches 145, beyond one float's range): both are
  // exact scalings, so the results equal AVX-512's. vminps returns its
  // second operand, x, when it is NaN; NaN lanes stay NaN through y.
  const __m256 tiny = _mm256_cmp_ps(x, splat(-87.3365447f), _CMP_LT_OQ);
  x = _mm256_andnot_ps(tiny, _mm256_min_ps(splat(100.0f), x));
  const Float n = _mm256_round_ps(x * 1.44269504088896341f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const Float y = exp_of_remainder(x, n);
  const __m256i ni = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(ni, 1), bias = _mm256_set1_epi32(127);
  const Float scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
  const Float scale2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
  return _mm256_andnot_ps(tiny, y * scale1 * scale2);
#else
  return per_lane(x, [](float v) { return fexp(v); });
#endif
}

// erfc of each lane, as ferfc (vec_math.h), with a reciprocal estimate
// (14 bits on AVX-512, 12 on AVX2) and one Newton step in place of the division.
inline Float erfc(Float x) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const Float z = x < 0.0f ? -x : x;
  const Float d = fma(z, splat(0.5f), splat(1.0f));
#if defined(__AVX512F__)
  constexpr __mmask16 all = 0xffff;
  Float t = _mm512_maskz_rcp14_ps(all, d);
#else
  Float t = _mm256_rcp_ps(d);
#endif
  t = t * fma(-d, t, splat(2.0f));
  Float p = splat(0.17087277f);
  p = fma(p, t, splat(-0.82215223f));
  p = fma(p, t, splat(1.48851587f));
  p = fma(p, t, splat(-1.13520398f));
  p = fma(p, t, splat(0.27886807f));
  p = fma(p, t, splat(-0.18628806f));
  p = fma(p, t, splat(0.09678418f));
  p = fma(p, t, splat(0.37409196f));
  p = fma(p, t, splat(1.00002368f));
  p = fma(p, t, splat(-1.26551223f));
  const Float ans = t * exp(fma(-z, z, p));
  return x >= 0.0f ? ans : 2.0f - ans;
#else
  return per_lane(x, [](float v) { return ferfc(v); });
#endif
}

// tanh of each lane, as ftanh (vec_math.h): the odd polynomial below 0.625,
// 1 - 2 / (exp(2|x|) + 1) beyond, on vec::exp.
inline Float tanh(Float x) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const Float ax = x < 0.0f ? -x : x;
  const Float z = x * x;
  Float p = splat(-5.70498872745e-3f);
  p = fma(p, z, splat(2.06390887954e-2f));
  p = fma(p, z, splat(-5.37397155531e-2f));
  p = fma(p, z, splat(1.33314422036e-1f));
  p = fma(p, z, splat(-3.33332819422e-1f));
  const Float small = fma(p * z, x, x);
  const Float big = 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
  return ax < 0.625f ? small : (x < 0.0f ? -big : big);
#else
  return per_lane(x, [](float v) { return ftanh(v); });
#endif
}

// sum and max of x[0, n). max compares with >, so a NaN may be passed over;
// callers see NaN through the values themselves (softmax's exp(x - max)).
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

// Transposes the kLanes x kLanes matrix whose rows are m[0, kLanes), in
// registers: one round of two-source shuffles per bit of the lane index,
// each swapping that bit between row and column (log2(kLanes) rounds of
// kLanes shuffles, where scalar code needs kLanes^2 moves).
namespace detail {
// Row r (bit B of r clear) and row r + B after the round: lane c from lanes
// [0, kLanes) of row r or [kLanes, 2 kLanes) of row r + B.
template <int B, size_t... C> inline Float low_half(Float a, Float b, std::index_sequence<C...>) {
  return __builtin_shufflevector(a, b, int(C & B ? kLanes + C - B : C)...);
}
template <int B, size_t... C> inline Float high_half(Float a, Float b, std::index_sequence<C...>) {
  return __builtin_shufflevector(a, b, int(C & B ? kLanes + C : C + B)...);
}
template <int B> inline void transpose_round(Float* m) {
  constexpr auto lanes = std::make_index_sequence<kLanes>{};
#pragma GCC unroll 16
  for (int r = 0; r < kLanes; ++r)
    if (!(r & B)) {
      const Float a = m[r], b = m[r + B];
      m[r] = low_half<B>(a, b, lanes);
      m[r + B] = high_half<B>(a, b, lanes);
    }
}
}  // namespace detail

inline void transpose(Float* m) {
  detail::transpose_round<1>(m);
  detail::transpose_round<2>(m);
  if constexpr (kLanes > 4) detail::transpose_round<4>(m);
  if constexpr (kLanes > 8) detail::transpose_round<8>(m);
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE::vec
