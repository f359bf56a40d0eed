// The one portability header of the GPU backend. Kernel sources (.cu) are
// written against the CUDA runtime API and include this header only (never
// lib/dlt headers: fmt does not compile under nvcc's C++20). A HIP build maps
// the CUDA names used here to HIP's, so hipcc compiles the same sources.
#pragma once

#if defined(DLT_WITH_HIP)
#include <hip/hip_runtime.h>
#include <hip/hip_fp16.h>
#include <hip/hip_bfloat16.h>  // ROCm 5.2 has no hip_bf16.h
#include "kernels/cuda/hip_names.h"
#else
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif

namespace dlt::gpu {

// Throws dlt::Error naming the failed call, the runtime's message and where.
[[noreturn]] void fail(const char* expr, const char* message, const char* file, int line);

}  // namespace dlt::gpu

#define DLT_GPU_CHECK(expr)                                                    \
  do {                                                                         \
    const cudaError_t dlt_gpu_err_ = (expr);                                   \
    if (dlt_gpu_err_ != cudaSuccess)                                           \
      ::dlt::gpu::fail(#expr, cudaGetErrorString(dlt_gpu_err_), __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: a bad launch configuration surfaces here.
#define DLT_GPU_CHECK_LAUNCH() DLT_GPU_CHECK(cudaGetLastError())
