// Dropout. Element i is kept when the uniform double drawn from Philox words
// philox_pair(seed, offset, i) is below 1 - p, the layout every backend
// follows, so the mask depends on neither the thread count nor the device.
#include "dlt/core/philox.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// x (contiguous) -> y = x * mask / (1 - p), mask (bool, same shape).
void dropout_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::DropoutAttrs>();
  const double keep_prob = 1.0 - a.p;
  const int64_t n = c.in[0].numel();
  bool* mask = c.out[1].data_ptr<bool>();
  visit_floating(c.in[0].dtype(), "dropout", [&]<class T>() {
    using C = compute_t<T>;
    const C scale = keep_prob > 0 ? C(1.0 / keep_prob) : C(0);
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      // philox_pair's layout, one block per element pair: elements 2q and
      // 2q + 1 use words (0, 1) and (2, 3) of block offset + q.
      // A chunk boundary may split a pair: its odd element alone first,
      // then whole pairs (one block each, vectorised across blocks), then a
      // last even element alone.
      int64_t i = b;
      auto one = [&](int64_t k) {
        const auto [hi, lo] = philox_pair(a.seed, a.offset, uint64_t(k));
        mask[k] = uint_to_unit_double(hi, lo) < keep_prob;
      };
      if (i % 2 == 1) one(i++);
      const int64_t pairs = (e - i) / 2;
      const uint64_t q0 = a.offset + uint64_t(i) / 2, seed = a.seed;
      const double keep = keep_prob;
      bool* m = mask + i;
      // Philox4x32::generate(seed, q0 + q) spelled on scalars (its std::array
      // keeps GCC from vectorising the loop); the test against philox_pair
      // in tests/ops/test_dropout.cpp holds the two together.
#pragma omp simd
      for (int64_t q = 0; q < pairs; ++q) {
        const uint64_t ctr = q0 + uint64_t(q);
        uint32_t c0 = uint32_t(ctr), c1 = uint32_t(ctr >> 32), c2 = 0, c3 = 0;
        uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
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
        m[2 * q] = uint_to_unit_double(c0, c1) < keep;
        m[2 * q + 1] = uint_to_unit_double(c2, c3) < keep;
      }
      i += 2 * pairs;
      if (i < e) one(i);
#pragma omp simd
      for (int64_t i = b; i < e; ++i) y[i] = T(mask[i] ? C(x[i]) * scale : C(0));
    });
  });
}
DLT_REGISTER_KERNEL(dropout, cpu, dropout_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
