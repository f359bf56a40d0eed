// f32 <-> bf16 / f16 conversions, scalar (core/half.h) and through the copy
// kernels (Tensor::to), against a reference written from the formats'
// definitions: every one of the 65536 patterns of each 16-bit type widens
// exactly, and f32 values narrow to the nearest 16-bit value with ties to
// even, overflow to inf, subnormals kept, NaN quiet. The f32 inputs cover
// every exponent and mantissa prefix with the low bits at the rounding
// boundaries (exact ties among them), plus random patterns.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "dlt/core/half.h"
#include "dlt/ops/ops.h"

namespace dlt {
namespace {

struct Format {
  DType dtype;
  int exp_bits, mant_bits;
  uint16_t inf_bits() const { return uint16_t(((1u << exp_bits) - 1) << mant_bits); }
};
constexpr Format kBf16{DType::bf16, 8, 7}, kF16{DType::f16, 5, 10};

// The value of a non-negative 16-bit pattern up to inf, from its fields.
double decode(const Format& f, uint16_t bits) {
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  const uint32_t exp = bits >> f.mant_bits, mant = bits & ((1u << f.mant_bits) - 1);
  if (bits >= f.inf_bits()) return mant == 0 ? INFINITY : NAN;
  if (exp == 0) return std::ldexp(double(mant), 1 - bias - f.mant_bits);
  return std::ldexp(1.0 + std::ldexp(double(mant), -f.mant_bits), int(exp) - bias);
}

// Where the rounding places inf: one step past the largest finite value.
double inf_position(const Format& f) { return std::ldexp(1.0, (1 << (f.exp_bits - 1))); }

// The nearest pattern to |x| (ties to the even mantissa), with x's sign.
uint16_t reference_narrow(const Format& f, float x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return 0;  // NaN: checked separately
  const double a = std::fabs(double(x));
  auto value = [&](uint16_t b) { return b == f.inf_bits() ? inf_position(f) : decode(f, b); };
  if (a >= inf_position(f)) return sign | f.inf_bits();
  // The first pattern at or above a (patterns are monotonic for a >= 0).
  uint16_t lo = 0, hi = f.inf_bits();
  while (lo < hi) {
    const uint16_t mid = uint16_t((lo + hi) / 2);
    if (value(mid) < a) lo = uint16_t(mid + 1);
    else hi = mid;
  }
  if (value(lo) == a || lo == 0) return sign | lo;
  const uint16_t below = uint16_t(lo - 1);
  const double up = value(lo) - a, down = a - value(below);
  const uint16_t pick = up < down ? lo : down < up ? below : ((lo & 1) == 0 ? lo : below);
  return sign | pick;
}

Tensor of_bits(DType dtype, const std::vector<uint16_t>& bits) {
  Tensor t = empty({int64_t(bits.size())}, dtype);
  std::memcpy(t.raw_data(), bits.data(), bits.size() * 2);
  return t;
}

std::vector<uint16_t> bits_of(const Tensor& t) {
  std::vector<uint16_t> out(size_t(t.numel()));
  std::memcpy(out.data(), t.contiguous().raw_data(), out.size() * 2);
  return out;
}

class HalfConversions : public ::testing::TestWithParam<Format> {};

TEST_P(HalfConversions, EveryPatternWidensExactly) {
  const Format f = GetParam();
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  const Tensor wide = of_bits(f.dtype, all).to(DType::f32);
  const float* w = wide.data_ptr<float>();
  for (uint32_t b = 0; b < 65536; ++b) {
    const double mag = decode(f, uint16_t(b & 0x7fff));
    const double expect = (b & 0x8000) ? -mag : mag;
    const float scalar = f.dtype == DType::bf16 ? float(BFloat16(std::bit_cast<BFloat16>(uint16_t(b))))
                                                : float(std::bit_cast<Half>(uint16_t(b)));
    if (std::isnan(expect)) {
      ASSERT_TRUE(std::isnan(w[b]) && std::isnan(scalar)) << std::hex << b;
    } else {
      ASSERT_EQ(double(w[b]), expect) << std::hex << b;
      ASSERT_EQ(double(scalar), expect) << std::hex << b;
      ASSERT_EQ(std::signbit(w[b]), bool(b & 0x8000)) << std::hex << b;
    }
  }
}

TEST_P(HalfConversions, F32NarrowsToTheNearestTiesToEven) {
  const Format f = GetParam();
  const int dropped = 23 - f.mant_bits;  // f32 mantissa bits below the 16-bit one
  const uint32_t half_ulp = 1u << (dropped - 1), low_mask = (1u << dropped) - 1;
  const uint32_t lows[] = {0, 1, half_ulp - 1, half_ulp, half_ulp + 1, low_mask};
  std::vector<float> xs;
  for (uint32_t high = 0; high < (1u << (32 - dropped)); high += f.dtype == DType::f16 ? 3 : 1)
    for (const uint32_t low : lows) xs.push_back(std::bit_cast<float>((high << dropped) | low));
  std::mt19937 gen(7);
  for (int i = 0; i < (1 << 20); ++i) xs.push_back(std::bit_cast<float>(uint32_t(gen())));

  const Tensor narrow = from_vector<float>(xs, {int64_t(xs.size())}).to(f.dtype);
  const std::vector<uint16_t> got = bits_of(narrow);
  int64_t checked = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    const uint16_t scalar = f.dtype == DType::bf16 ? std::bit_cast<uint16_t>(BFloat16(x)) : std::bit_cast<uint16_t>(Half(x));
    if (std::isnan(x)) {
      ASSERT_TRUE((got[i] & 0x7fff) > f.inf_bits() && (scalar & 0x7fff) > f.inf_bits()) << "NaN stays NaN";
      continue;
    }
    const uint16_t expect = reference_narrow(f, x);
    ASSERT_EQ(got[i], expect) << std::hexfloat << x << " (kernel)";
    ASSERT_EQ(scalar, expect) << std::hexfloat << x << " (scalar)";
    ++checked;
  }
  EXPECT_GT(checked, 1000000);
}

INSTANTIATE_TEST_SUITE_P(Core, HalfConversions, ::testing::Values(kBf16, kF16),
                         [](const auto& info) { return std::string(dtype_name(info.param.dtype)); });

}  // namespace
}  // namespace dlt
