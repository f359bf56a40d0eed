// Dropout: element i is kept with probability 1 - p, drawn in the layout
// every backend follows (dropout_mask.h).
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// x (contiguous) -> y = x * mask / (1 - p), mask (bool, same shape).
void dropout_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::DropoutAttrs>();
  const double keep_prob = 1.0 - a.p;
  const uint64_t threshold = keep_threshold(keep_prob);
  const int64_t n = c.in[0].numel();
  bool* mask = c.out[1].data_ptr<bool>();
  visit_floating(c.in[0].dtype(), "dropout", [&]<class T>() {
    using C = compute_t<T>;
    const C scale = keep_prob > 0 ? C(1.0 / keep_prob) : C(0);
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      dropout_keep_mask(a.seed, a.offset, threshold, b, e, mask + b);
#pragma omp simd
      for (int64_t i = b; i < e; ++i) y[i] = T(mask[i] ? C(x[i]) * scale : C(0));
    });
  });
}
DLT_REGISTER_KERNEL(dropout, cpu, dropout_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
