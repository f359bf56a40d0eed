// GEMMs on a GPU: cuBLASLt for f32 / f16 / bf16 (f32 accumulation; TF32 only
// when dlt::allow_tf32()), cuBLAS for f64, a plain kernel for integers. One
// cuBLASLt handle, cuBLAS handle and workspace per device, created on first
// use and kept for the process's lifetime; matmul descriptors and the
// heuristic's algorithm are cached per problem. Host code only (.cpp).
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>

#include "kernels/cuda/gemm_plan.h"
#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// Throws dlt::Error naming the failed call and cuBLAS's status string.
[[noreturn]] void cublas_fail(const char* expr, cublasStatus_t status, const char* file, int line);

// Pointers to element 0 of each operand, as described by a GemmPlan; C is
// contiguous. bias (N) contiguous or nullptr.
struct GemmOperands {
  const void* a = nullptr;
  const void* b = nullptr;
  void* c = nullptr;
  const void* bias = nullptr;
};

// C = A @ B (+ bias) on `device`'s compute stream.
void run_gemm(const GemmPlan& plan, DTypeCode dtype, const GemmOperands& operands, int device,
              cudaStream_t stream);

}  // namespace dlt::gpu

#define DLT_CUBLAS_CHECK(expr)                                                    \
  do {                                                                            \
    const cublasStatus_t dlt_cublas_status_ = (expr);                             \
    if (dlt_cublas_status_ != CUBLAS_STATUS_SUCCESS)                              \
      ::dlt::gpu::cublas_fail(#expr, dlt_cublas_status_, __FILE__, __LINE__);     \
  } while (0)
