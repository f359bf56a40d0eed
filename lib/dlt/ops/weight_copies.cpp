#include "dlt/ops/weight_copies.h"

#include "dlt/core/grad_mode.h"

namespace dlt {

Tensor WeightCopies::get(const Tensor& weight, DType dtype, bool* cast) {
  DLT_ASSERT(weight.dtype() == DType::f32 && (dtype == DType::bf16 || dtype == DType::f16),
             "weight copies are bf16 or f16 copies of f32 weights, not {} of {}", dtype, weight.dtype());
  Entry& e = entries_[weight.impl()];
  *cast = !(e.copy.defined() && e.copy.dtype() == dtype && e.storage == weight.storage() &&
            e.version == weight.version());
  if (*cast) {
    NoGradGuard no_grad;
    e = {weight, weight.storage(), weight.version(), weight.to(dtype).contiguous()};
  }
  return e.copy;
}

Tensor WeightCopies::find(const Tensor& weight) const {
  const auto it = entries_.find(weight.impl());
  return it == entries_.end() ? Tensor() : it->second.copy;
}

void WeightCopies::written(const Tensor& weight) {
  const auto it = entries_.find(weight.impl());
  DLT_ASSERT(it != entries_.end(), "written: no copy is kept of this weight");
  it->second.storage = weight.storage();
  it->second.version = weight.version();
}

int64_t WeightCopies::bytes() const {
  int64_t n = 0;
  for (const auto& [key, e] : entries_) n += e.copy.numel() * int64_t(e.copy.element_size());
  return n;
}

}  // namespace dlt
