// Runtime names used: cudaMemsetAsync.
#include "kernels/cuda/gemm_loop.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;

int64_t blocks_for(int64_t n) { return (n + kThreads - 1) / kThreads; }

template <class T> __global__ void gemm_loop_kernel(GemmLoopArgs g, int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t j = idx % g.n, i = (idx / g.n) % g.m;
  int64_t flat = idx / (g.n * g.m), a_off = 0, b_off = 0;
  for (int d = g.nbatch - 1; d >= 0; --d) {
    const int64_t bi = flat % g.batch[d];
    flat /= g.batch[d];
    a_off += bi * g.a_bs[d];
    b_off += bi * g.b_bs[d];
  }
  const T* a = static_cast<const T*>(g.a) + a_off + i * g.a_rs;
  const T* b = static_cast<const T*>(g.b) + b_off + j * g.b_cs;
  C acc = g.bias ? convert<C>(static_cast<const T*>(g.bias)[j]) : C(0);
  for (int64_t p = 0; p < g.k; ++p) acc += convert<C>(a[p * g.a_cs]) * convert<C>(b[p * g.b_rs]);
  static_cast<T*>(g.c)[idx] = convert<T>(acc);
}

template <class T> __global__ void fill_rows_kernel(T* c, const T* bias, int64_t n, int64_t total) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx < total) c[idx] = bias[idx % n];
}

}  // namespace

void launch_gemm_loop(const GemmLoopArgs& args, cudaStream_t stream) {
  int64_t total = args.m * args.n;
  for (int d = 0; d < args.nbatch; ++d) total *= args.batch[d];
  if (total == 0) return;
  visit_code(args.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      gemm_loop_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(args, total);
      DLT_GPU_CHECK_LAUNCH();
    }
  });
}

void launch_fill_rows(void* c, const void* bias, DTypeCode dtype, int64_t rows, int64_t n,
                      cudaStream_t stream) {
  const int64_t total = rows * n;
  if (total == 0) return;
  visit_code(dtype, [&]<class T>() {
    if (!bias) {
      DLT_GPU_CHECK(cudaMemsetAsync(c, 0, size_t(total) * sizeof(T), stream));
      return;
    }
    fill_rows_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        static_cast<T*>(c), static_cast<const T*>(bias), n, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
