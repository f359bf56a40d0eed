// Shape kernels: cat and the triangular masks tril / triu (contiguous operands).
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// Seen as (outer, rest), each output row is the concatenation of the inputs'
// rows: copies `in` (outer, in_row) into out (outer, out_row) at column `at`.
void launch_cat_piece(TensorArg out, TensorArg in, int64_t outer, int64_t out_row, int64_t at,
                      cudaStream_t stream);

// x (..., R, C) -> out: lower keeps column j of row i when j <= i + diagonal,
// upper when j >= i + diagonal; the rest is zero.
void launch_triangle(TensorArg out, TensorArg x, int64_t diagonal, bool lower, cudaStream_t stream);

}  // namespace dlt::gpu
