// A tensor kept for backward. It is stored without history (no reference
// cycle through its own grad_fn) and remembers the storage version, so a
// backward through a tensor modified in place afterwards is refused.
#pragma once

#include "dlt/core/tensor.h"

namespace dlt::autograd {

class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t)
      : data_(t.defined() ? t.detach() : Tensor()), version_(t.defined() ? t.version() : 0) {}

  // The saved value; a user error if it was modified in place since.
  const Tensor& unpack(const char* node_name) const;
  void reset() { data_ = Tensor(); }
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint32_t version_ = 0;
};

}  // namespace dlt::autograd
