// The portable batched GEMM: our own tiled kernel (portable_tile.cuh), for
// builds without a vendor BLAS (HIP on Debian: no rocBLAS). Plain C++, so the
// matmul/linear kernels and the tests can call it. Namespace `portable`
// keeps its types apart from the cuBLASLt/cuDNN wrappers' (ConvShape...).
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu::portable {

// One matrix of a batched GEMM: element (batch..., row, col) lies at
// data + sum(batch_i * batch_strides[i]) + row * row_stride + col * col_stride
// (in elements). A batch stride of 0 broadcasts the matrix along that dim.
struct GemmMatrix {
  void* data = nullptr;
  int64_t row_stride = 0, col_stride = 0;
  int64_t batch_strides[kMaxDims] = {};
};

// C[batch] (M, N) = A[batch] (M, K) @ B[batch] (K, N) (+ bias (N)) over the
// batch dims batch_shape[0..batch_ndim). All operands have `dtype`: f32, f64,
// f16, bf16 (accumulated in float, f64 in double) or an integer type
// (accumulated in its own type); bias, when not null, is contiguous. Any
// strides work (transposed operands need no copy); C must not overlap A or B.
struct GemmProblem {
  DTypeCode dtype = DTypeCode::f32;
  int64_t m = 0, n = 0, k = 0;
  int batch_ndim = 0;
  int64_t batch_shape[kMaxDims] = {};
  GemmMatrix a, b, c;
  const void* bias = nullptr;
};

void launch_portable_gemm(const GemmProblem& problem, cudaStream_t stream);

}  // namespace dlt::gpu::portable
