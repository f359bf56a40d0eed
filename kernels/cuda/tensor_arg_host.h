// Host side of tensor_arg.h: builds TensorArgs from tensors and finds the
// stream a kernel call must use. For the .cpp half of each kernel family.
#pragma once

#include "dlt/core/tensor.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/gpu.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

static_assert(int(DType::f32) == int(DTypeCode::f32) && int(DType::bf16) == int(DTypeCode::bf16) &&
              int(DType::boolean) == int(DTypeCode::boolean));

inline DTypeCode dtype_code(DType t) { return static_cast<DTypeCode>(t); }

inline TensorArg tensor_arg(const Tensor& t) {
  DLT_CHECK(t.dim() <= kMaxDims, "the GPU backend supports up to {} dims, got a {}-d tensor",
            kMaxDims, t.dim());
  TensorArg a;
  a.data = t.numel() > 0 ? t.raw_data() : nullptr;
  a.dtype = dtype_code(t.dtype());
  a.ndim = int(t.dim());
  a.numel = t.numel();
  for (int d = 0; d < a.ndim; ++d) {
    a.shape[d] = t.size(d);
    a.strides[d] = t.stride(d);
  }
  return a;
}

// For kernels that read and write dense rows: every defined input and output
// must be contiguous (the op layer makes them so; this guards the kernel).
inline void check_dense(const ops::KernelCall& c) {
  for (const Tensor& t : c.in)
    DLT_CHECK(!t.defined() || t.is_contiguous(),
              "{} on the GPU: expected contiguous inputs, got strides {}", ops::op_name(c.op),
              shape_str(t.strides()));
  for (const Tensor& t : c.out)
    DLT_CHECK(!t.defined() || t.is_contiguous(), "{} on the GPU: expected contiguous outputs",
              ops::op_name(c.op));
}

// Makes the tensor's device current and returns its compute stream.
inline cudaStream_t stream_for(const Tensor& t) { return use_device(t.device().index); }

}  // namespace dlt::gpu

// The device type GPU kernels register under: cuda, or hip in a HIP build.
#if defined(DLT_WITH_HIP)
#define DLT_GPU_DEVICE hip
#else
#define DLT_GPU_DEVICE cuda
#endif

// In a kernel family's .cpp: DLT_REGISTER_GPU_KERNEL(relu, relu_kernel);
#define DLT_REGISTER_GPU_KERNEL(op, fn) DLT_REGISTER_KERNEL(op, DLT_GPU_DEVICE, fn)
