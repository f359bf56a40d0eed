// Multi-tensor launches (PyTorch's multi_tensor_apply, apex's scheme): one
// launch updates up to kMultiTensorMax<kDepth> tensors, each block one chunk
// of kMultiTensorChunk elements of one tensor, found in a (tensor, chunk)
// table passed by value with the tensors' pointers and sizes. A list of
// tensors takes as many launches as multi_tensor_plan.h cuts it into.
// Runtime names used: cudaStream_t, cudaGetLastError.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/multi_tensor_plan.h"

namespace dlt::gpu {

inline constexpr int64_t kMultiTensorChunk = 65536;  // elements per block
inline constexpr int kMultiTensorThreads = 512;      // threads per block
inline constexpr int kMultiTensorBlocks = 480;       // blocks (chunks) per launch

// Tensors per launch with kDepth pointers each (grad, param, state...): the
// table stays under 3.8 KB, leaving room for an op's scalars within the 4 KB
// of kernel parameters.
template <int kDepth>
inline constexpr int kMultiTensorMax = kDepth <= 3 ? 40 : kDepth == 4 ? 32 : kDepth == 5 ? 28 : 24;

template <int kDepth> struct MultiTensorArg {
  void* ptr[kDepth][kMultiTensorMax<kDepth>];  // [operand][slot]
  int64_t numel[kMultiTensorMax<kDepth>];      // by slot
  int32_t block_chunk[kMultiTensorBlocks];     // by block: chunk index in its tensor
  uint8_t block_slot[kMultiTensorBlocks];      // by block: its tensor's slot
};

namespace detail {

// Block b runs op(pointers of its tensor, i) over the elements i of its chunk.
template <int kDepth, class Op>
__global__ void __launch_bounds__(kMultiTensorThreads)
    multi_tensor_kernel(MultiTensorArg<kDepth> arg, Op op) {
  const int slot = arg.block_slot[blockIdx.x];
  const int64_t begin = int64_t(arg.block_chunk[blockIdx.x]) * kMultiTensorChunk;
  const int64_t numel = arg.numel[slot];
  const int64_t end = begin + kMultiTensorChunk < numel ? begin + kMultiTensorChunk : numel;
  void* ptr[kDepth];
#pragma unroll
  for (int k = 0; k < kDepth; ++k) ptr[k] = arg.ptr[k][slot];
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) op(ptr, i);
}

}  // namespace detail

// Runs op(ptr, i) on the device for every element i of every tensor, where
// ptr[k] = pointer(t, k) of tensor t (sizes[t] elements). Op is a trivially
// copyable functor with `__device__ void operator()(void* const* ptr, int64_t i) const`.
template <int kDepth, class Op, class Pointer>
void multi_tensor_apply(std::span<const int64_t> sizes, Pointer&& pointer, const Op& op,
                        cudaStream_t stream) {
  static_assert(sizeof(MultiTensorArg<kDepth>) + sizeof(Op) <= 4096,
                "kernel parameters must stay within 4 KB");
  static_assert(kMultiTensorMax<kDepth> <= 256, "slots are stored in 8 bits");
  for (const MultiTensorLaunch& launch :
       plan_multi_tensor(sizes, kMultiTensorMax<kDepth>, kMultiTensorBlocks, kMultiTensorChunk)) {
    MultiTensorArg<kDepth> arg{};
    for (size_t s = 0; s < launch.tensors.size(); ++s) {
      const int64_t t = launch.tensors[s];
      arg.numel[s] = sizes[t];
      for (int k = 0; k < kDepth; ++k) arg.ptr[k][s] = pointer(t, k);
    }
    // Chunk indices fit in 32 bits up to 2^47 elements per tensor.
    for (size_t b = 0; b < launch.blocks.size(); ++b) {
      arg.block_chunk[b] = int32_t(launch.blocks[b].chunk);
      arg.block_slot[b] = uint8_t(launch.blocks[b].slot);
    }
    detail::multi_tensor_kernel<kDepth, Op>
        <<<unsigned(launch.blocks.size()), kMultiTensorThreads, 0, stream>>>(arg, op);
    DLT_GPU_CHECK_LAUNCH();
  }
}

}  // namespace dlt::gpu
