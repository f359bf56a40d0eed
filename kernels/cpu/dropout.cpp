// Dropout. Element i is kept when the uniform double drawn from Philox words
// philox_pair(seed, offset, i) is below 1 - p, the layout every backend
// follows, so the mask depends on neither the thread count nor the device.
#include "dlt/core/philox.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"

namespace dlt::cpu {
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
      for (int64_t i = b; i < e;) {
        const auto block = Philox4x32::generate(a.seed, a.offset + uint64_t(i) / 2);
        do {
          const size_t w = 2 * size_t(i % 2);
          mask[i] = uint_to_unit_double(block[w], block[w + 1]) < keep_prob;
          ++i;
        } while (i < e && i % 2 == 1);
      }
#pragma omp simd
      for (int64_t i = b; i < e; ++i) y[i] = T(mask[i] ? C(x[i]) * scale : C(0));
    });
  });
}
DLT_REGISTER_KERNEL(dropout, cpu, dropout_kernel);

}  // namespace
}  // namespace dlt::cpu
