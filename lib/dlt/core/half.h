// 16-bit floating point storage types. Arithmetic is done in float: kernels
// load a Half/BFloat16, convert, compute, and round back on store.
#pragma once

#include <bit>
#include <cstdint>

namespace dlt {

namespace detail {

// Always inlined: a kernel file compiled for AVX2 or AVX-512
// (kernels/cpu/isa_namespace.h) that left an out-of-line copy of one of
// these would give the linker a vector-encoded version to keep for every
// caller, baseline code included.
#define DLT_HALF_INLINE [[gnu::always_inline]] inline

// IEEE binary16 <-> binary32, round to nearest even (no F16C needed).
DLT_HALF_INLINE float half_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // normal
  } else if (mant == 0) {
    bits = sign;  // zero
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | uint32_t(112 - e) << 23 | ((mant & 0x3ff) << 13);
  }
  return std::bit_cast<float>(bits);
}

DLT_HALF_INLINE uint16_t float_to_half_bits(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)  // inf or nan (keep nan quiet)
    return sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0);
  if (ax >= 0x477ff000u) return sign | 0x7c00;  // overflow to inf
  if (ax < 0x38800000u) {                        // result is subnormal or zero
    // Add 0.5 (as a float) so the FPU rounds the mantissa for us.
    const float shifted = std::bit_cast<float>(ax) + 0.5f;
    return sign | uint16_t(std::bit_cast<uint32_t>(shifted) - 0x3f000000u);
  }
  const uint32_t mant_odd = (ax >> 13) & 1;
  uint32_t r = ax + 0xc8000fffu + mant_odd;  // rebias exponent, round to even
  return sign | uint16_t(r >> 13);
}

DLT_HALF_INLINE float bf16_bits_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

DLT_HALF_INLINE uint16_t float_to_bf16_bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet nan
  x += 0x7fffu + ((x >> 16) & 1);  // round to nearest even
  return uint16_t(x >> 16);
}

#undef DLT_HALF_INLINE

}  // namespace detail

struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f) : bits(detail::float_to_half_bits(f)) {}  // NOLINT: implicit like a float
  operator float() const { return detail::half_bits_to_float(bits); }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) : bits(detail::float_to_bf16_bits(f)) {}  // NOLINT
  operator float() const { return detail::bf16_bits_to_float(bits); }
};

}  // namespace dlt
