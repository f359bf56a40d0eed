// Shape kernels (see shape.h); elements move as words of their size.
// Runtime names used: cudaStream_t, cudaGetLastError.
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/shape.h"
#include "kernels/cuda/words.cuh"

namespace dlt::gpu {
namespace {

#define DLT_FOR_EACH_ELEMENT(i, n)                                          \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

template <class W>
__global__ void cat_piece_kernel(W* out, const W* in, int64_t outer, int64_t in_row,
                                 int64_t out_row, int64_t at) {
  DLT_FOR_EACH_ELEMENT(i, outer * in_row) {
    const int64_t o = i / in_row, j = i % in_row;
    out[o * out_row + at + j] = in[i];
  }
}

template <class W>
__global__ void triangle_kernel(W* out, const W* x, int64_t n, int64_t R, int64_t C,
                                int64_t diagonal, bool lower) {
  DLT_FOR_EACH_ELEMENT(e, n) {
    const int64_t j = e % C, i = (e / C) % R;
    const bool keep = lower ? j <= i + diagonal : j >= i + diagonal;
    out[e] = keep ? x[e] : W(0);
  }
}

#undef DLT_FOR_EACH_ELEMENT

}  // namespace

void launch_cat_piece(TensorArg out, TensorArg in, int64_t outer, int64_t out_row, int64_t at,
                      cudaStream_t s) {
  if (in.numel == 0) return;
  const int64_t in_row = in.numel / outer;
  visit_word(out.dtype, [&]<class W>() {
    cat_piece_kernel<W><<<blocks_for(in.numel), kThreads, 0, s>>>(
        static_cast<W*>(out.data), static_cast<const W*>(in.data), outer, in_row, out_row, at);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_triangle(TensorArg out, TensorArg x, int64_t diagonal, bool lower, cudaStream_t s) {
  if (x.numel == 0) return;
  const int64_t R = x.shape[x.ndim - 2], C = x.shape[x.ndim - 1];
  // Beyond +-(R + C) every diagonal keeps all or nothing: clamping avoids overflow.
  const int64_t limit = R + C;
  const int64_t d = diagonal < -limit ? -limit : (diagonal > limit ? limit : diagonal);
  visit_word(x.dtype, [&]<class W>() {
    triangle_kernel<W><<<blocks_for(x.numel), kThreads, 0, s>>>(
        static_cast<W*>(out.data), static_cast<const W*>(x.data), x.numel, R, C, d, lower);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
