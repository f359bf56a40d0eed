// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3"): a counter-based generator. Element i of a random tensor is a pure
// function of (seed, offset, i), so the numbers do not depend on the thread
// count, the split of work, or the device.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

// Kernel sources compiled by nvcc / hipcc include this header to draw the
// same numbers on the device; plain C++ sees an empty macro.
#if defined(__CUDACC__) || defined(__HIPCC__)
#define DLT_HOST_DEVICE __host__ __device__
#else
#define DLT_HOST_DEVICE
#endif

namespace dlt {

struct Philox4x32 {
  using Block = std::array<uint32_t, 4>;

  // One block of 4 random words for counter `ctr` under key `seed`.
  DLT_HOST_DEVICE static Block generate(uint64_t seed, uint64_t ctr_lo, uint64_t ctr_hi = 0) {
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    Block c = {uint32_t(ctr_lo), uint32_t(ctr_lo >> 32), uint32_t(ctr_hi), uint32_t(ctr_hi >> 32)};
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t(0xD2511F53u) * c[0];
      const uint64_t p1 = uint64_t(0xCD9E8D57u) * c[2];
      c = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1,
           uint32_t(p0)};
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return c;
  }
};

// Uniform in [0, 1) with 24 random bits (float) or 53 (double).
DLT_HOST_DEVICE inline float uint_to_unit_float(uint32_t x) { return float(x >> 8) * 0x1.0p-24f; }
DLT_HOST_DEVICE inline double uint_to_unit_double(uint32_t hi, uint32_t lo) {
  return double((uint64_t(hi) << 21) ^ (lo >> 11)) * 0x1.0p-53;
}

// lo + width * u rounded once (an explicit fma): whether a compiler would
// contract the expression cannot change the value, so every backend and
// build maps the same words to the same numbers.
DLT_HOST_DEVICE inline float scale_unit(float lo, float width, float u) { return ::fmaf(width, u, lo); }
DLT_HOST_DEVICE inline double scale_unit(double lo, double width, double u) {
  return ::fma(width, u, lo);
}

// Two standard normals from two uniform words (Box-Muller).
DLT_HOST_DEVICE inline std::array<double, 2> box_muller(uint32_t a, uint32_t b) {
  const double u1 = 1.0 - double(a) * 0x1.0p-32;  // (0, 1]: log never sees 0
  const double u2 = double(b) * 0x1.0p-32;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * 3.14159265358979323846 * u2;
  return {r * std::cos(theta), r * std::sin(theta)};
}

}  // namespace dlt

namespace dlt {

// The stream layout every backend follows: element i of a random tensor
// drawn at generator offset `offset` uses words (2*(i%2), 2*(i%2)+1) of the
// Philox block at counter offset + i/2. A draw of n elements therefore takes
// (n + 1) / 2 counters from the generator.
DLT_HOST_DEVICE inline std::array<uint32_t, 2> philox_pair(uint64_t seed, uint64_t offset, uint64_t i) {
  const auto block = Philox4x32::generate(seed, offset + i / 2);
  const size_t w = 2 * (i % 2);
  return {block[w], block[w + 1]};
}
DLT_HOST_DEVICE inline uint64_t philox_counters(uint64_t n) { return (n + 1) / 2; }

}  // namespace dlt
