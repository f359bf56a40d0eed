// Dropout's keep mask over a range of element indices, in philox_pair's
// layout (dlt/core/philox.h): element i is kept when the uniform double drawn
// from philox_pair(seed, offset, i) is below keep_prob. The dropout op and the
// fused attention's weight dropout both draw through this, so a mask depends
// on neither the thread count, the kernel nor the device.
#pragma once

#include <cmath>
#include <cstdint>

#include "dlt/core/philox.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

// mask[i - begin] for the elements i in [begin, end).
[[gnu::always_inline]] inline void dropout_keep_mask(uint64_t seed, uint64_t offset, double keep_prob,
                                                     int64_t begin, int64_t end, bool* mask) {
  // Elements 2q and 2q + 1 use words (0, 1) and (2, 3) of block offset + q. A
  // range may start inside a pair: its odd element alone first, then whole
  // pairs (one block each, vectorised across blocks), then a last even element alone.
  // uint_to_unit_double(hi, lo) = u 2^-53 exactly, u = hi << 21 ^ lo >> 11 < 2^53,
  // and an integer is below keep_prob 2^53 when it is below its ceiling: the
  // same test on integers, which vectorises on every instruction set.
  const auto threshold = uint64_t(std::ceil(std::ldexp(keep_prob, 53)));
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
  // Philox4x32::generate(seed, q0 + q) spelled on scalars (its std::array
  // keeps GCC from vectorising the loop); the test against philox_pair in
  // tests/ops/test_dropout.cpp holds the two together.
#pragma omp simd
  for (int64_t q = 0; q < pairs; ++q) {
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
