// Dropout's keep mask over a range of element indices, in philox_pair's
// layout (dlt/core/philox.h): element i is kept when the uniform double drawn
// from philox_pair(seed, offset, i) is below keep_prob. The dropout op and the
// fused attention's weight dropout both draw through this, so a mask depends
// on neither the thread count, the kernel nor the device.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dlt/core/philox.h"
#include "kernels/cpu/isa_namespace.h"

// DLT_PHILOX_LANES: this instruction set draws a register of Philox blocks
// at a time (PhiloxKeepLanes below: PhiloxKeepX16 or PhiloxKeepX8).
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && \
    defined(__BMI2__)
#include <immintrin.h>
#define DLT_PHILOX_X16 1
#define DLT_PHILOX_LANES 1
#elif defined(__AVX2__)
#include <immintrin.h>
#define DLT_PHILOX_X8 1
#define DLT_PHILOX_LANES 1
#endif

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

// The keep test of an element drawn as u 2^-53 (uint_to_unit_double: u =
// hi << 21 ^ lo >> 11 < 2^53, the product exact) against keep_prob: an
// integer is below keep_prob 2^53 when it is below its ceiling, so u is kept
// when u < keep_threshold(keep_prob), the same test on integers, which
// vectorises on every instruction set.
inline uint64_t keep_threshold(double keep_prob) { return uint64_t(std::ceil(std::ldexp(keep_prob, 53))); }
// Whether a threshold keeps every element (keep_prob 1): nothing to draw.
inline bool keeps_all(uint64_t threshold) { return threshold >= uint64_t(1) << 53; }

#ifdef DLT_PHILOX_LANES
// Philox4x32-10 (philox.h) of the counters (c0, c1, 0, 0), one per 32-bit
// lane: the four output words. L gives the register type R and its lane
// operations: splat, xor3 and mul_hi_lo (the 32-bit halves of a * b).
template <class L, class R = typename L::Reg>
[[gnu::always_inline]] inline std::array<R, 4> philox_rounds(R c0, R c1, uint64_t seed) {
  const R m0 = L::splat(0xD2511F53u), m1 = L::splat(0xCD9E8D57u);
  R c2 = L::splat(0), c3 = L::splat(0);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    R hi0, lo0, hi1, lo1;
    L::mul_hi_lo(c0, m0, hi0, lo0);
    L::mul_hi_lo(c2, m1, hi1, lo1);
    const R n0 = L::xor3(hi1, c1, L::splat(k0)), n2 = L::xor3(hi0, c3, L::splat(k1));
    c1 = lo1;
    c3 = lo0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}
#endif

#ifdef DLT_PHILOX_X16
// Keep tests of 16 Philox blocks at a time, in the 32-bit lanes of zmm
// registers (GCC vectorises the generic loop below at 256 bits, two blocks a
// register). The keep test is on (hi, lo >> 11) as the 53-bit integer
// hi 2^21 + (lo >> 11) against threshold = t_hi 2^21 + t_lo < 2^53 (not
// keeps_all).
class PhiloxKeepX16 {
 public:
  static constexpr int64_t kLanes = 16;
  PhiloxKeepX16(uint64_t seed, uint64_t threshold)
      : seed_(seed), t_hi_(_mm512_set1_epi32(int(uint32_t(threshold >> 21)))),
        t_lo_(_mm512_set1_epi32(int(uint32_t(threshold & ((1u << 21) - 1))))) {}

  struct Masks {
    __mmask16 even, odd;  // lane r: element 2 counter_r, element 2 counter_r + 1
  };
  // Counters base + r for lanes r, carried into the high word.
  Masks consecutive(uint64_t base) const {
    const __m512i lo = _mm512_set1_epi32(int(uint32_t(base)));
    const __m512i hi = _mm512_set1_epi32(int(uint32_t(base >> 32)));
    const __m512i c0 = _mm512_add_epi32(lo, iota());
    return keep(c0, _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(c0, lo), hi, _mm512_set1_epi32(1)));
  }
  // factor in the kept lanes, 0 in the others.
  static __m512 select(__mmask16 kept, __m512 factor) { return _mm512_maskz_mov_ps(kept, factor); }
  // The keep bytes of the first min(pairs, 16) lanes' elements, in element order.
  static void store_bytes(Masks keep, bool* m, int64_t pairs) {
    const uint32_t bits = _pdep_u32(keep.even, 0x55555555u) | _pdep_u32(keep.odd, 0xAAAAAAAAu);
    const __m256i bytes = _mm256_maskz_set1_epi8(bits, 1);
    if (pairs >= kLanes)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(m), bytes);
    else
      _mm256_mask_storeu_epi8(m, (uint32_t(1) << (2 * pairs)) - 1, bytes);
  }
  // Counters base + r step for lanes r.
  Masks strided(uint64_t base, uint64_t step) const {
    const __m512i r = _mm512_maskz_cvtepu32_epi64(kAll8, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m512i first = _mm512_add_epi64(_mm512_set1_epi64(int64_t(base)),
                                           _mm512_mullo_epi64(r, _mm512_set1_epi64(int64_t(step))));
    const __m512i second = _mm512_add_epi64(first, _mm512_set1_epi64(int64_t(8 * step)));
    const auto halves = [](__m512i a, __m512i b) {  // 32-bit halves of 16 64-bit lanes
      return _mm512_maskz_inserti64x4(kAll8, _mm512_castsi256_si512(_mm512_maskz_cvtepi64_epi32(kAll8, a)),
                                      _mm512_maskz_cvtepi64_epi32(kAll8, b), 1);
    };
    return keep(halves(first, second),
                halves(_mm512_maskz_srli_epi64(kAll8, first, 32), _mm512_maskz_srli_epi64(kAll8, second, 32)));
  }

 private:
  // The zero-masked forms with every lane selected: the plain ones pass an
  // undefined vector through, which GCC 12 reports as uninitialised (PR 105593).
  static constexpr __mmask8 kAll8 = 0xFF;
  static constexpr __mmask16 kAll16 = 0xFFFF;
  static __m512i iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }

  // The lane operations of philox_rounds.
  struct Lanes {
    using Reg = __m512i;
    static __m512i splat(uint32_t v) { return _mm512_set1_epi32(int(v)); }
    static __m512i xor3(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
    // (hi, lo) 32-bit halves of a * b lane by lane, b a broadcast: even lanes
    // from one widening multiply, odd lanes from another.
    static void mul_hi_lo(__m512i a, __m512i b, __m512i& hi, __m512i& lo) {
      const __m512i even = _mm512_maskz_mul_epu32(kAll8, a, b);
      const __m512i odd = _mm512_maskz_mul_epu32(kAll8, _mm512_maskz_srli_epi64(kAll8, a, 32), b);
      hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(kAll8, even, 32), odd);
      lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kAll8, odd, 32));
    }
  };
  __mmask16 below_threshold(__m512i hi, __m512i lo) const {
    const __m512i low_bits = _mm512_maskz_srli_epi32(kAll16, lo, 11);
    return _mm512_cmplt_epu32_mask(hi, t_hi_) |
           (_mm512_cmpeq_epi32_mask(hi, t_hi_) & _mm512_cmplt_epu32_mask(low_bits, t_lo_));
  }
  // Philox4x32-10 of the counters (c0, c1, 0, 0) per lane; element 2 counter
  // from words (0, 1), element 2 counter + 1 from words (2, 3).
  Masks keep(__m512i c0, __m512i c1) const {
    const auto [w0, w1, w2, w3] = philox_rounds<Lanes>(c0, c1, seed_);
    return {below_threshold(w0, w1), below_threshold(w2, w3)};
  }

  uint64_t seed_;
  __m512i t_hi_, t_lo_;
};

#endif

#ifdef DLT_PHILOX_X8
// PhiloxKeepX16 on AVX2: 8 Philox blocks at a time in the 32-bit lanes of
// ymm registers. AVX2 compares only signed integers: both
// sides of an unsigned comparison are offset by 2^31.
class PhiloxKeepX8 {
 public:
  static constexpr int64_t kLanes = 8;
  PhiloxKeepX8(uint64_t seed, uint64_t threshold)
      : seed_(seed), t_hi_(_mm256_set1_epi32(int(uint32_t(threshold >> 21) ^ kSign))),
        t_lo_(_mm256_set1_epi32(int(uint32_t(threshold & ((1u << 21) - 1))))) {}

  struct Masks {
    __m256i even, odd;  // lane r all ones where element 2 counter_r (+ 1) is kept
  };
  static __m256 select(__m256i kept, __m256 factor) { return _mm256_and_ps(_mm256_castsi256_ps(kept), factor); }
  // Counters base + r for lanes r, carried into the high word.
  Masks consecutive(uint64_t base) const {
    const __m256i sign = _mm256_set1_epi32(int(kSign));
    const __m256i lo = _mm256_set1_epi32(int(uint32_t(base)));
    const __m256i c0 = _mm256_add_epi32(lo, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, sign), _mm256_xor_si256(c0, sign));  // -1
    return keep(c0, _mm256_sub_epi32(_mm256_set1_epi32(int(uint32_t(base >> 32))), carry));
  }
  // The keep bytes of the first min(pairs, 8) lanes' elements, in element order.
  static void store_bytes(Masks keep, bool* m, int64_t pairs) {
    // (e0, o0, ..., e3, o3) and (e4, o4, ..., e7, o7), narrowed to bytes.
    const __m256i lo = _mm256_unpacklo_epi32(keep.even, keep.odd), hi = _mm256_unpackhi_epi32(keep.even, keep.odd);
    const __m256i words = _mm256_permute4x64_epi64(
        _mm256_packs_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31)), 0xD8);
    const __m128i bytes = _mm_and_si128(
        _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1)), _mm_set1_epi8(1));
    if (pairs >= kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(m), bytes);
    } else {
      alignas(16) uint8_t all[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(all), bytes);
      std::memcpy(m, all, size_t(2 * pairs));
    }
  }
  // Counters base + r step for lanes r.
  Masks strided(uint64_t base, uint64_t step) const {
    const __m256i first = _mm256_setr_epi64x(int64_t(base), int64_t(base + step), int64_t(base + 2 * step),
                                             int64_t(base + 3 * step));
    const __m256i second = _mm256_add_epi64(first, _mm256_set1_epi64x(int64_t(4 * step)));
    // Each 64-bit lane's halves apart: (lo0..lo3, hi0..hi3) per vector.
    const __m256i split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256i a = _mm256_permutevar8x32_epi32(first, split), b = _mm256_permutevar8x32_epi32(second, split);
    return keep(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
  }

 private:
  static constexpr uint32_t kSign = 0x80000000u;
  // The lane operations of philox_rounds.
  struct Lanes {
    using Reg = __m256i;
    static __m256i splat(uint32_t v) { return _mm256_set1_epi32(int(v)); }
    static __m256i xor3(__m256i a, __m256i b, __m256i c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
    static void mul_hi_lo(__m256i a, __m256i b, __m256i& hi, __m256i& lo) {
      const __m256i even = _mm256_mul_epu32(a, b), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), b);
      hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
      lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    }
  };
  __m256i below_threshold(__m256i hi, __m256i lo) const {
    const __m256i sign = _mm256_set1_epi32(int(kSign));
    const __m256i h = _mm256_xor_si256(hi, sign);  // t_lo_ < 2^21 and lo >> 11 compare as signed
    const __m256i high_below = _mm256_cmpgt_epi32(t_hi_, h), high_equal = _mm256_cmpeq_epi32(t_hi_, h);
    const __m256i low_below = _mm256_cmpgt_epi32(t_lo_, _mm256_srli_epi32(lo, 11));
    return _mm256_or_si256(high_below, _mm256_and_si256(high_equal, low_below));
  }
  Masks keep(__m256i c0, __m256i c1) const {
    const auto [w0, w1, w2, w3] = philox_rounds<Lanes>(c0, c1, seed_);
    return {below_threshold(w0, w1), below_threshold(w2, w3)};
  }

  uint64_t seed_;
  __m256i t_hi_, t_lo_;
};
#endif

#ifdef DLT_PHILOX_LANES
#ifdef DLT_PHILOX_X16
using PhiloxKeepLanes = PhiloxKeepX16;
#else
using PhiloxKeepLanes = PhiloxKeepX8;
#endif

// The keep bytes of the `pairs` Philox blocks from counter q0, a register of
// blocks at a time. Returns the pairs done: all, or 0 when every element is
// kept, which the generic loop does.
[[gnu::always_inline]] inline int64_t philox_keep_bytes(uint64_t seed, uint64_t q0, int64_t pairs,
                                                        uint64_t threshold, bool* m) {
  if (keeps_all(threshold)) return 0;
  const PhiloxKeepLanes philox(seed, threshold);
  for (int64_t q = 0; q < pairs; q += PhiloxKeepLanes::kLanes)
    PhiloxKeepLanes::store_bytes(philox.consecutive(q0 + uint64_t(q)), m + 2 * q, pairs - q);
  return pairs;
}
#endif

// mask[i - begin] for the elements i in [begin, end), threshold =
// keep_threshold(keep_prob).
[[gnu::always_inline]] inline void dropout_keep_mask(uint64_t seed, uint64_t offset, uint64_t threshold,
                                                     int64_t begin, int64_t end, bool* mask) {
  // Elements 2q and 2q + 1 use words (0, 1) and (2, 3) of block offset + q. A
  // range may start inside a pair: its odd element alone first, then whole
  // pairs (one block each, vectorised across blocks), then a last even element alone.
  const auto unit_bits = [](uint32_t hi, uint32_t lo) { return uint64_t(hi) << 21 ^ lo >> 11; };
  int64_t i = begin;
  const auto one = [&](int64_t k) {
    const auto [hi, lo] = philox_pair(seed, offset, uint64_t(k));
    mask[k - begin] = unit_bits(hi, lo) < threshold;
  };
  if (i < end && i % 2 == 1) one(i++);
  const int64_t pairs = (end - i) / 2;
  const uint64_t q0 = offset + uint64_t(i) / 2;
  bool* m = mask + (i - begin);
  int64_t first = 0;  // pairs done
#ifdef DLT_PHILOX_LANES
  first = philox_keep_bytes(seed, q0, pairs, threshold, m);
#endif
  // Philox4x32::generate(seed, q0 + q) spelled on scalars (its std::array
  // keeps GCC from vectorising the loop); the test against philox_pair in
  // tests/ops/test_dropout.cpp holds the two together.
#pragma omp simd
  for (int64_t q = first; q < pairs; ++q) {
    const uint64_t ctr = q0 + uint64_t(q);
    uint32_t c0 = uint32_t(ctr), c1 = uint32_t(ctr >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
#pragma GCC unroll 10
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t(0xD2511F53u) * c0;
      const uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
      c1 = uint32_t(p1);
      c3 = uint32_t(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    m[2 * q] = unit_bits(c0, c1) < threshold;
    m[2 * q + 1] = unit_bits(c2, c3) < threshold;
  }
  i += 2 * pairs;
  if (i < end) one(i);
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
