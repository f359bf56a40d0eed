// Launchers of the tensor-core attention kernels (attention_mma.cuh): which
// calls take them, their tile sizes and shared memory.
//
// Runtime names used: cudaGetDevice, cudaDeviceGetAttribute,
// cudaDevAttrComputeCapabilityMajor, cudaFuncSetAttribute.
// A configuration whose tiles do not fit the device's shared memory (f16 and
// bf16 at D = 128, and TF32 at every D, on the 99 KiB of sm_86/89/120) keeps
// to the FMA kernels, for the forward and the backward alike.
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

// Opts `kernel` into Bytes of shared memory and launches it, a block per 64
// rows of each head.
template <size_t Bytes, class Kernel, class... Args>
void launch_per_rows(Kernel kernel, const Problem& p, cudaStream_t stream, Args... args) {
  static_assert(Bytes <= kMaxSharedBytes);
  allow_shared_memory(kernel, Bytes, p);
  kernel<<<grid_of(p, kRows), kThreads, Bytes, stream>>>(args...);
  DLT_GPU_CHECK_LAUNCH();
}

}  // namespace

bool use_tensor_cores(DTypeCode dtype, bool tf32, int dim) {
  if (dtype != DTypeCode::f16 && dtype != DTypeCode::bf16 && !(dtype == DTypeCode::f32 && tf32))
    return false;
  int device = 0, major = 0;
  DLT_GPU_CHECK(cudaGetDevice(&device));
  DLT_GPU_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  if (major < 8) return false;
  size_t bytes = 0;
  visit_mma_type(dtype, [&]<class T>() {
    visit_head_dim(dim, [&]<int D>() { bytes = shared_bytes<T, D>(); });
  });
  return bytes <= max_shared_bytes();
}

void launch_forward_mma(const Problem& p, Heads out, float* lse, Heads q, Heads k, Heads v,
                        DTypeCode dtype, cudaStream_t stream) {
  visit_mma_type(dtype, [&]<class T>() {
    visit_head_dim(p.dim, [&]<int D>() {
      constexpr int BK = inner_tile<T, D>();
      launch_per_rows<ForwardSmem<T, D, BK>::bytes>(forward_kernel<T, D, BK>, p, stream, out, lse, q,
                                                    k, v, p);
    });
  });
}

void launch_backward_mma(const Problem& p, Heads dq, Heads dk, Heads dv, Heads dout, Heads q,
                         Heads k, Heads v, const float* lse, const float* row_dot, DTypeCode dtype,
                         cudaStream_t stream) {
  visit_mma_type(dtype, [&]<class T>() {
    visit_head_dim(p.dim, [&]<int D>() {
      constexpr int B = inner_tile<T, D>();
      launch_per_rows<DkDvSmem<T, D, B>::bytes>(dkdv_kernel<T, D, B>, p, stream, dk, dv, dout, q, k,
                                                v, lse, row_dot, p);
      launch_per_rows<DqSmem<T, D, B>::bytes>(dq_kernel<T, D, B>, p, stream, dq, dout, q, k, v, lse,
                                              row_dot, p);
    });
  });
}

#else  // HIP: no wmma here; attention.cu keeps to its FMA kernels.

bool use_tensor_cores(DTypeCode, bool, int) { return false; }

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
