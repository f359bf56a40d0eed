// Indexing kernels: index_select (and embedding), gather, one_hot, and the
// accumulating index_add (and embedding_backward) and scatter_add. Index
// tensors are int32 or int64 and contiguous; so are the other operands unless
// noted. A bad index (outside [0, size)) is skipped (a read gives 0, gather
// reads element 0 as on the CPU) and its position atomicMin-ed into
// *bad_position (a device int64 the caller initialises to a value past the
// last position), so the caller can name the first bad one.
//
// Accumulation uses atomicAdd, in an accumulator dtype (acc_code): f32 for
// f16/bf16 (no half atomics: sums round once, as on the CPU), i64 for u8 and
// bool, the dtype itself otherwise. When it differs from the output's dtype
// the caller passes a contiguous accumulator tensor of out's shape; results
// are then converted into out. Float sums are not deterministic in order.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// The dtype index_add / scatter_add / embedding_backward accumulate in.
DTypeCode acc_code(DTypeCode dtype);

// x (outer, D, inner), index (K) -> out (outer, K, inner).
void launch_index_select(TensorArg out, TensorArg x, TensorArg index, int64_t outer, int64_t D,
                         int64_t inner, int64_t* bad_position, cudaStream_t stream);

// out (outer, D, inner) = x, then src (outer, K, inner) row k added into row
// index[k]; index entries equal to `skip` add nothing (embedding's padding
// row; pass -1 for none). acc: see above (data nullptr when not needed).
// zero_init: start from zeros instead of x (embedding_backward; x unused).
void launch_index_add(TensorArg out, TensorArg acc, TensorArg x, TensorArg index, TensorArg src,
                      int64_t outer, int64_t D, int64_t inner, int64_t skip, bool zero_init,
                      int64_t* bad_position, cudaStream_t stream);

// x (any strides), index (x's rank) -> out (index's shape, contiguous).
void launch_gather(TensorArg out, TensorArg x, TensorArg index, int64_t dim,
                   int64_t* bad_position, cudaStream_t stream);

// out (x's shape, contiguous) = x, then src[i] (any strides) added at
// i with coordinate `dim` replaced by index[i], for every i of index's shape.
void launch_scatter_add(TensorArg out, TensorArg acc, TensorArg x, TensorArg index, TensorArg src,
                        int64_t dim, int64_t* bad_position, cudaStream_t stream);

// indices (P) -> out (P, N) int64 with a single 1 per row.
void launch_one_hot(TensorArg out, TensorArg indices, int64_t num_classes, int64_t* bad_position,
                    cudaStream_t stream);

}  // namespace dlt::gpu
