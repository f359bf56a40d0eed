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

// DLT_GPU_WMMA: 1 where kernel sources may use CUDA's warp matrix API
// (nvcuda::wmma, <mma.h>) for tensor cores; 0 in HIP builds, where ROCm's
// counterpart is a separate library (rocWMMA) and the kernels that would use
// it fall back to their FMA forms. Device code also needs sm_80 or newer
// (bfloat16 and TF32 fragments): test __CUDA_ARCH__ there.
#if defined(DLT_WITH_HIP)
#define DLT_GPU_WMMA 0
#else
#include <mma.h>
#define DLT_GPU_WMMA 1
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
