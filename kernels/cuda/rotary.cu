// rotary_embedding's kernel: one thread per pair (x[2i], x[2i + 1]).
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/rotary.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void rotary_kernel(T* y, const T* x, const T* cos, const T* sin, RotaryArgs a,
                              int64_t pairs) {
  using C = compute_t<T>;
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= pairs) return;
  const int64_t half = a.dim / 2, i = p % half, row = p / (half * a.heads);
  const int64_t table = row % a.len * half + i;
  const C x0 = convert<C>(x[2 * p]), x1 = convert<C>(x[2 * p + 1]);
  const C co = convert<C>(cos[table]), si = (a.inverse ? C(-1) : C(1)) * convert<C>(sin[table]);
  y[2 * p] = convert<T>(x0 * co - x1 * si);
  y[2 * p + 1] = convert<T>(x0 * si + x1 * co);
}

}  // namespace

void launch_rotary(TensorArg y, TensorArg x, TensorArg cos, TensorArg sin, const RotaryArgs& a,
                   cudaStream_t stream) {
  const int64_t pairs = a.rows * a.heads * (a.dim / 2);
  if (pairs == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    rotary_kernel<T><<<unsigned(ceil_div(pairs, kThreads)), kThreads, 0, stream>>>(
        static_cast<T*>(y.data), static_cast<const T*>(x.data), static_cast<const T*>(cos.data),
        static_cast<const T*>(sin.data), a, pairs);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
