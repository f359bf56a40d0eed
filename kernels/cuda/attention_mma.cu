// Launchers of the tensor-core attention kernels (attention_mma.cuh): which
// calls take them, their tile sizes and shared memory.
//
// Runtime names used: cudaGetDevice, cudaDeviceGetAttribute,
// cudaDevAttrComputeCapabilityMajor, cudaFuncSetAttribute.
#include "kernels/cuda/attention_mma.h"
#include "kernels/cuda/attention_mma.cuh"

namespace dlt::gpu::attention {

#if DLT_GPU_WMMA
using namespace mma;

namespace {

// Calls f.template operator()<T>() with the operand type of a tensor-core dtype.
template <class F> void visit_mma_type(DTypeCode dtype, F&& f) {
  switch (dtype) {
    case DTypeCode::f16: return f.template operator()<__half>();
    case DTypeCode::bf16: return f.template operator()<__nv_bfloat16>();
    default: return f.template operator()<float>();  // TF32
  }
}

}  // namespace

bool use_tensor_cores(DTypeCode dtype, bool tf32) {
  if (dtype != DTypeCode::f16 && dtype != DTypeCode::bf16 && !(dtype == DTypeCode::f32 && tf32))
    return false;
  int device = 0, major = 0;
  DLT_GPU_CHECK(cudaGetDevice(&device));
  DLT_GPU_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return major >= 8;
}

void launch_forward_mma(const Problem& p, Heads out, float* lse, Heads q, Heads k, Heads v,
                        DTypeCode dtype, cudaStream_t stream) {
  visit_mma_type(dtype, [&]<class T>() {
    visit_head_dim(p.dim, [&]<int D>() {
      constexpr int BK = inner_tile<T, D>();
      constexpr size_t bytes = ForwardSmem<T, D, BK>::bytes;
      static_assert(bytes <= kMaxSharedBytes);
      auto kernel = forward_kernel<T, D, BK>;
      allow_shared_memory(kernel, bytes);
      kernel<<<grid_of(p, kRows), kThreads, bytes, stream>>>(out, lse, q, k, v, p);
      DLT_GPU_CHECK_LAUNCH();
    });
  });
}

void launch_backward_mma(const Problem& p, Heads dq, Heads dk, Heads dv, Heads dout, Heads q,
                         Heads k, Heads v, const float* lse, const float* row_dot, DTypeCode dtype,
                         cudaStream_t stream) {
  visit_mma_type(dtype, [&]<class T>() {
    visit_head_dim(p.dim, [&]<int D>() {
      constexpr int B = inner_tile<T, D>();
      constexpr size_t dkdv_bytes = DkDvSmem<T, D, B>::bytes;
      static_assert(dkdv_bytes <= kMaxSharedBytes);
      auto dkdv = dkdv_kernel<T, D, B>;
      allow_shared_memory(dkdv, dkdv_bytes);
      dkdv<<<grid_of(p, kRows), kThreads, dkdv_bytes, stream>>>(dk, dv, dout, q, k, v, lse,
                                                                  row_dot, p);
      DLT_GPU_CHECK_LAUNCH();
      constexpr size_t dq_bytes = DqSmem<T, D, B>::bytes;
      static_assert(dq_bytes <= kMaxSharedBytes);
      auto dq_k = dq_kernel<T, D, B>;
      allow_shared_memory(dq_k, dq_bytes);
      dq_k<<<grid_of(p, kRows), kThreads, dq_bytes, stream>>>(dq, dout, q, k, v, lse, row_dot, p);
      DLT_GPU_CHECK_LAUNCH();
    });
  });
}

#else  // HIP: no wmma here; attention.cu keeps to its FMA kernels.

bool use_tensor_cores(DTypeCode, bool) { return false; }

void launch_forward_mma(const Problem&, Heads, float*, Heads, Heads, Heads, DTypeCode,
                        cudaStream_t) {
  fail("launch_forward_mma", "no tensor-core attention in this build", __FILE__, __LINE__);
}

void launch_backward_mma(const Problem&, Heads, Heads, Heads, Heads, Heads, Heads, Heads,
                         const float*, const float*, DTypeCode, cudaStream_t) {
  fail("launch_backward_mma", "no tensor-core attention in this build", __FILE__, __LINE__);
}

#endif

}  // namespace dlt::gpu::attention
