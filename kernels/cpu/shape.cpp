// Shape kernels: cat and the triangular masks tril / triu. Both only move
// bytes (a zero bit pattern is 0 in every dtype), so one loop serves all dtypes.
#include <cstring>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// Inputs (contiguous, the output's dtype) -> out: along `dim` input k fills
// its own slab. Seen as (outer, rest), every row of the output is the
// concatenation of the inputs' rows. Inputs without elements (torch skips
// 1-D empty tensors) copy nothing.
void cat_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  Tensor& out = c.out[0];
  if (out.numel() == 0) return;
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out.size(d);
  const size_t elem = out.element_size();
  const size_t out_row = size_t(out.numel() / outer) * elem;
  const size_t K = c.in.size();
  std::vector<size_t> row_bytes(K), row_offset(K);
  size_t at = 0;
  for (size_t k = 0; k < K; ++k) {
    row_bytes[k] = size_t(c.in[k].numel() / outer) * elem;
    row_offset[k] = at;
    at += row_bytes[k];
  }
  char* dst = static_cast<char*>(out.raw_data());
  const int64_t task_elems = std::max<int64_t>(1, int64_t(out_row / elem / K));
  parallel_for(0, outer * int64_t(K), rows_grain(task_elems), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const size_t o = size_t(t) / K, k = size_t(t) % K;
      if (row_bytes[k] == 0) continue;
      const char* src = static_cast<const char*>(c.in[k].raw_data());
      std::memcpy(dst + o * out_row + row_offset[k], src + o * row_bytes[k], row_bytes[k]);
    }
  });
}
DLT_REGISTER_KERNEL(cat, cpu, cat_kernel);

// x (..., R, C) contiguous -> out: tril keeps column j of row i when
// j <= i + diagonal, triu when j >= i + diagonal; the rest is zero.
template <bool kLower> void triangle_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  const int64_t R = x.size(-2), C = x.size(-1);
  if (x.numel() == 0) return;
  // Beyond +-(R + C) every diagonal keeps all or nothing: clamping avoids overflow.
  const int64_t diagonal = std::clamp(c.attrs<ops::TriAttrs>().diagonal, -(R + C), R + C);
  const size_t elem = x.element_size();
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(c.out[0].raw_data());
  parallel_for(0, x.numel() / C, rows_grain(C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t i = r % R;
      // Columns [0, split) are kept by tril and zeroed by triu.
      const size_t split = size_t(std::clamp(i + diagonal + (kLower ? 1 : 0), int64_t(0), C));
      const size_t row = size_t(r * C) * elem, head = split * elem, tail = size_t(C) * elem - head;
      if (kLower) {
        std::memcpy(dst + row, src + row, head);
        std::memset(dst + row + head, 0, tail);
      } else {
        std::memset(dst + row, 0, head);
        std::memcpy(dst + row + head, src + row + head, tail);
      }
    }
  });
}
DLT_REGISTER_KERNEL(tril, cpu, triangle_kernel<true>);
DLT_REGISTER_KERNEL(triu, cpu, triangle_kernel<false>);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
