// The device side of multi-tensor launches (multi_tensor.cuh launches it):
// the table one launch passes by value, how a list of tensors becomes such
// tables, and the kernel that walks one. Apart from the launch itself, so
// that tests/emulated can run the kernel and its tables on the CPU.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/multi_tensor_plan.h"

namespace dlt::gpu {

inline constexpr int64_t kMultiTensorChunk = 65536;  // elements per block
inline constexpr int kMultiTensorThreads = 512;      // threads per block
inline constexpr int kMultiTensorBlocks = 480;       // blocks (chunks) per launch

// Tensors per launch with kDepth pointers each (grad, param, state..., copy):
// the table stays under 3.8 KB, leaving room for an op's scalars within the
// 4 KB of kernel parameters.
template <int kDepth>
inline constexpr int kMultiTensorMax = kDepth <= 3 ? 40 : kDepth == 4 ? 32 : kDepth == 5 ? 28 : 24;

template <int kDepth> struct MultiTensorArg {
  void* ptr[kDepth][kMultiTensorMax<kDepth>];  // [operand][slot]
  int64_t numel[kMultiTensorMax<kDepth>];      // by slot
  int32_t block_chunk[kMultiTensorBlocks];     // by block: chunk index in its tensor
  uint8_t block_slot[kMultiTensorBlocks];      // by block: its tensor's slot
};

// One launch: its table and its number of blocks.
template <int kDepth> struct MultiTensorLaunchArg {
  MultiTensorArg<kDepth> arg;
  unsigned blocks;
};

// The launches covering every element of tensors of these sizes, where
// ptr[k] of tensor t is pointer(t, k).
template <int kDepth, class Pointer>
std::vector<MultiTensorLaunchArg<kDepth>> multi_tensor_args(std::span<const int64_t> sizes, Pointer&& pointer) {
  static_assert(kMultiTensorMax<kDepth> <= 256, "slots are stored in 8 bits");
  std::vector<MultiTensorLaunchArg<kDepth>> out;
  for (const MultiTensorLaunch& launch :
       plan_multi_tensor(sizes, kMultiTensorMax<kDepth>, kMultiTensorBlocks, kMultiTensorChunk)) {
    MultiTensorLaunchArg<kDepth>& l = out.emplace_back();
    l.arg = {};
    l.blocks = unsigned(launch.blocks.size());
    for (size_t s = 0; s < launch.tensors.size(); ++s) {
      const int64_t t = launch.tensors[s];
      l.arg.numel[s] = sizes[size_t(t)];
      for (int k = 0; k < kDepth; ++k) l.arg.ptr[k][s] = pointer(t, k);
    }
    // Chunk indices fit in 32 bits up to 2^47 elements per tensor.
    for (size_t b = 0; b < launch.blocks.size(); ++b) {
      l.arg.block_chunk[b] = int32_t(launch.blocks[b].chunk);
      l.arg.block_slot[b] = uint8_t(launch.blocks[b].slot);
    }
  }
  return out;
}

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
}  // namespace dlt::gpu
