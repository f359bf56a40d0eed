// matmul and linear on a GPU: the op layer's operands read as one planned
// GEMM (gemm_plan.h) and run by cublaslt.cpp. Every matrix operand has a unit
// stride in one of its last two dims (ops/linalg.cpp), so transposed views
// need no copy; the output is fresh and contiguous.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/cublaslt.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

const void* data_or_null(const Tensor& t) {
  return t.defined() && t.numel() > 0 ? t.raw_data() : nullptr;
}

void gemm(const MatrixView& a_view, const MatrixView& b_view, const Tensor& a, const Tensor& b,
          const Tensor& bias, Tensor& out) {
  if (out.numel() == 0) return;
  const GemmPlan plan = plan_gemm(a_view, b_view);
  const cudaStream_t stream = stream_for(out);
  run_gemm(plan, dtype_code(out.dtype()),
           {data_or_null(a), data_or_null(b), out.raw_data(), data_or_null(bias)},
           out.device().index, stream);
}

// ins: a, b (torch.matmul shapes, checked by the op layer); out: the result.
void matmul_kernel(const KernelCall& call) {
  const Tensor &a = call.in[0], &b = call.in[1];
  gemm(lhs_view(a.shape(), a.strides()), rhs_view(b.shape(), b.strides()), a, b, Tensor(),
       call.out[0]);
}
DLT_REGISTER_GPU_KERNEL(matmul, matmul_kernel);

// ins: x (*, in), weight (out, in), bias (out) contiguous or undefined; out: (*, out).
void linear_kernel(const KernelCall& call) {
  const Tensor &x = call.in[0], &w = call.in[1];
  gemm(lhs_view(x.shape(), x.strides()), transposed_view(w.shape(), w.strides()), x, w,
       call.in[2], call.out[0]);
}
DLT_REGISTER_GPU_KERNEL(linear, linear_kernel);

}  // namespace
}  // namespace dlt::gpu
