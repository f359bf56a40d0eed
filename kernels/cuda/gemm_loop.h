// The GEMMs BLAS has no routine for (integer dtypes) and the bias rows the
// BLAS paths start from. Plain launchers, includable from .cu and .cpp.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// C[batch] (M, N), contiguous, = bias (N) + A[batch] (M, K) @ B[batch] (K, N).
// Batch strides in elements, 0 where an operand is broadcast.
struct GemmLoopArgs {
  DTypeCode dtype = DTypeCode::i64;
  const void* a = nullptr;
  const void* b = nullptr;
  const void* bias = nullptr;  // (N) contiguous, or nullptr
  void* c = nullptr;
  int64_t m = 0, k = 0, n = 0;
  int64_t a_rs = 0, a_cs = 0, b_rs = 0, b_cs = 0;
  int nbatch = 0;
  int64_t batch[kMaxDims] = {}, a_bs[kMaxDims] = {}, b_bs[kMaxDims] = {};
};

// One thread per output element, accumulating in the dtype's compute type in
// k order.
void launch_gemm_loop(const GemmLoopArgs& args, cudaStream_t stream);

// c (rows, N) contiguous: every row = bias (N), or zeros when bias is null.
void launch_fill_rows(void* c, const void* bias, DTypeCode dtype, int64_t rows, int64_t n,
                      cudaStream_t stream);

}  // namespace dlt::gpu
