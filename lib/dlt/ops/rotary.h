// rotary_embedding's kernel call, forward or inverse (minus the angles: the
// op's own backward, since a rotation's transpose is its inverse).
#pragma once

#include "dlt/core/tensor.h"

namespace dlt::ops {

// x (*, T, H, D) contiguous, cos and sin (T, D / 2) in x's dtype, contiguous.
Tensor rotate_pairs(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse);

}  // namespace dlt::ops
