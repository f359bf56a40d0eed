// rotary_embedding on the CPU: each head's D / 2 pairs rotated by its
// position's angles, parallel over (leading, t) rows of heads. Arithmetic in
// compute_t<T> (f16/bf16 in float).
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/isa_namespace.h"
#include "kernels/cpu/loops.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// in (x (*, T, H, D), cos (T, D / 2), sin), out (y), all contiguous.
template <class T> void rotary_typed(const KernelCall& c) {
  using C = compute_t<T>;
  const Tensor& x = c.in[0];
  if (x.numel() == 0) return;
  const int64_t d = x.size(-1), half = d / 2, heads = x.size(-2), len = x.size(-3);
  const int64_t rows = x.numel() / (heads * d);  // (*, T) positions
  const C sign = c.attrs<ops::RotaryAttrs>().inverse ? C(-1) : C(1);
  const T* xp = x.data_ptr<T>();
  const T* cp = c.in[1].data_ptr<T>();
  const T* sp = c.in[2].data_ptr<T>();
  T* yp = c.out[0].data_ptr<T>();
  parallel_for(0, rows, std::max<int64_t>(1, 16384 / (heads * d)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* cos = cp + r % len * half;
      const T* sin = sp + r % len * half;
      for (int64_t h = 0; h < heads; ++h) {
        const T* xr = xp + (r * heads + h) * d;
        T* yr = yp + (r * heads + h) * d;
#pragma omp simd
        for (int64_t i = 0; i < half; ++i) {
          const C x0 = C(xr[2 * i]), x1 = C(xr[2 * i + 1]);
          const C co = C(cos[i]), si = sign * C(sin[i]);
          yr[2 * i] = T(x0 * co - x1 * si);
          yr[2 * i + 1] = T(x0 * si + x1 * co);
        }
      }
    }
  });
}

void rotary_embedding_kernel(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "rotary_embedding", [&]<class T>() { rotary_typed<T>(c); });
}

}  // namespace

DLT_REGISTER_KERNEL(rotary_embedding, cpu, rotary_embedding_kernel);

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
