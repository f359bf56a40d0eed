// The low-precision copies of the weights that autocast's GEMMs read, kept
// from one step to the next (mixed-precision training): the optimizer writes
// each copy in the same pass as its weight's update (optim_ops.h), and the
// next forward pass takes it as it is instead of casting every weight again.
//
// A copy is used only while its weight is unchanged since the copy was made
// or written: same storage, same version counter. A weight changed in any
// other way (a checkpoint loaded, a broadcast or all-gather, an in-place op)
// is cast afresh. The price is the copies' memory between steps: half the
// f32 weights in bf16 or f16 (within a forward pass autocast holds them
// anyway). Not thread-safe: one training loop uses it.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "dlt/core/tensor.h"

namespace dlt {

class WeightCopies {
 public:
  // `weight` (f32) in `dtype` (bf16 or f16), without history: the kept copy
  // if it is current, else a new cast, which is kept. `*cast` says which.
  Tensor get(const Tensor& weight, DType dtype, bool* cast);

  // For an in-place update of `weight` that writes its copy in the same
  // pass: the kept copy (undefined when there is none); after the update,
  // written(weight) marks it current.
  Tensor find(const Tensor& weight) const;
  void written(const Tensor& weight);

  void clear() { entries_.clear(); }
  int64_t size() const { return int64_t(entries_.size()); }
  int64_t bytes() const;  // the copies' memory

 private:
  struct Entry {
    Tensor weight;     // kept alive, so its address is not another tensor's
    Storage storage;   // the weight's storage and version the copy matches
    uint32_t version = 0;
    Tensor copy;
  };
  std::unordered_map<const TensorImpl*, Entry> entries_;
};

}  // namespace dlt
