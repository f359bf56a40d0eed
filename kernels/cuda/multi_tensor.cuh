// Multi-tensor launches (PyTorch's multi_tensor_apply, apex's scheme): one
// launch updates up to kMultiTensorMax<kDepth> tensors, each block one chunk
// of kMultiTensorChunk elements of one tensor, found in a (tensor, chunk)
// table passed by value with the tensors' pointers and sizes
// (multi_tensor_kernel.cuh). A list of tensors takes as many launches as
// multi_tensor_plan.h cuts it into.
// Runtime names used: cudaStream_t, cudaGetLastError.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/multi_tensor_kernel.cuh"

namespace dlt::gpu {

// Launches the kernel on one table: op(ptr, i) for its tensors' elements.
template <int kDepth, class Op>
void multi_tensor_launch(const MultiTensorLaunchArg<kDepth>& launch, const Op& op, cudaStream_t stream) {
  static_assert(sizeof(MultiTensorArg<kDepth>) + sizeof(Op) <= 4096, "kernel parameters must stay within 4 KB");
  detail::multi_tensor_kernel<kDepth, Op><<<launch.blocks, kMultiTensorThreads, 0, stream>>>(launch.arg, op);
  DLT_GPU_CHECK_LAUNCH();
}

// Runs op(ptr, i) on the device for every element i of every tensor, where
// ptr[k] = pointer(t, k) of tensor t (sizes[t] elements). Op is a trivially
// copyable functor with `__device__ void operator()(void* const* ptr, int64_t i) const`.
template <int kDepth, class Op, class Pointer>
void multi_tensor_apply(std::span<const int64_t> sizes, Pointer&& pointer, const Op& op,
                        cudaStream_t stream) {
  for (const MultiTensorLaunchArg<kDepth>& launch : multi_tensor_args<kDepth>(sizes, pointer))
    multi_tensor_launch(launch, op, stream);
}

}  // namespace dlt::gpu
