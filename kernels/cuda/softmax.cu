// softmax / log_softmax and their backward on the GPU.
//   last dim (inner == 1): one warp or block per contiguous row; the forward
//     keeps an online (max, sum of exp) per thread, merged across the group,
//     then writes the row in a second pass;
//   other dims: one thread per (outer, inner) slice, reading along L with
//     stride inner (neighbouring threads read neighbouring elements).
// Runtime names used: cudaStream_t, cudaGetLastError, __shfl_xor_sync (via
// block_reduce.cuh), __syncthreads.
#include "kernels/cuda/softmax.h"

#include <limits>

#include "kernels/cuda/acc_math.cuh"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/online_softmax.cuh"
#include "kernels/cuda/row_groups.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

struct Slices {
  int64_t outer = 1, len = 1, inner = 1;
};

Slices slices_of(const TensorArg& t, int64_t dim) {
  Slices s;
  for (int d = 0; d < t.ndim; ++d) {
    if (d < dim) s.outer *= t.shape[d];
    else if (d == dim) s.len = t.shape[d];
    else s.inner *= t.shape[d];
  }
  return s;
}

template <class T, bool kWarp>
__global__ void softmax_rows_kernel(T* y, const T* x, int64_t rows, int64_t len, bool log) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  if (kWarp && t.row >= rows) return;  // whole warps leave together
  const T* xr = x + t.row * len;
  T* yr = y + t.row * len;
  MaxSum<C> ms = empty_max_sum<C>();
  for (int64_t i = t.lane; i < len; i += t.width) ms = add_value(ms, convert<C>(xr[i]));
  ms = group_reduce<kWarp>(ms, MergeMaxSum{}, empty_max_sum<C>());
  if (log) {
    const C lse = log_sum_exp(ms);
    for (int64_t i = t.lane; i < len; i += t.width) yr[i] = convert<T>(convert<C>(xr[i]) - lse);
    return;
  }
  const C inv = C(1) / ms.sum;
  for (int64_t i = t.lane; i < len; i += t.width)
    yr[i] = convert<T>(acc_exp(convert<C>(xr[i]) - ms.max) * inv);
}

// One thread per (outer, inner) slice: element l at base + l * inner.
template <class T>
__global__ void softmax_strided_kernel(T* y, const T* x, Slices s, bool log) {
  using C = compute_t<T>;
  const int64_t item = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= s.outer * s.inner) return;
  const int64_t base = item / s.inner * s.len * s.inner + item % s.inner;
  C mx = -std::numeric_limits<C>::infinity();
  for (int64_t l = 0; l < s.len; ++l) {
    const C v = convert<C>(x[base + l * s.inner]);
    mx = v > mx ? v : mx;
  }
  C sum = 0;
  for (int64_t l = 0; l < s.len; ++l) sum += acc_exp(convert<C>(x[base + l * s.inner]) - mx);
  const C lse = mx + acc_log(sum), inv = C(1) / sum;
  for (int64_t l = 0; l < s.len; ++l) {
    const int64_t at = base + l * s.inner;
    const C v = convert<C>(x[at]);
    y[at] = convert<T>(log ? v - lse : acc_exp(v - mx) * inv);
  }
}

template <class T, bool kWarp>
__global__ void softmax_backward_rows_kernel(T* dx, const T* g, const T* y, int64_t rows,
                                             int64_t len, bool log) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  if (kWarp && t.row >= rows) return;
  const int64_t off = t.row * len;
  C s = 0;
  for (int64_t i = t.lane; i < len; i += t.width)
    s += log ? convert<C>(g[off + i]) : convert<C>(g[off + i]) * convert<C>(y[off + i]);
  s = group_reduce<kWarp>(s, SumOp{}, C(0));
  for (int64_t i = t.lane; i < len; i += t.width) {
    const C gv = convert<C>(g[off + i]), yv = convert<C>(y[off + i]);
    dx[off + i] = convert<T>(log ? gv - acc_exp(yv) * s : yv * (gv - s));
  }
}

template <class T>
__global__ void softmax_backward_strided_kernel(T* dx, const T* g, const T* y, Slices s,
                                                bool log) {
  using C = compute_t<T>;
  const int64_t item = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= s.outer * s.inner) return;
  const int64_t base = item / s.inner * s.len * s.inner + item % s.inner;
  C sum = 0;
  for (int64_t l = 0; l < s.len; ++l) {
    const int64_t at = base + l * s.inner;
    sum += log ? convert<C>(g[at]) : convert<C>(g[at]) * convert<C>(y[at]);
  }
  for (int64_t l = 0; l < s.len; ++l) {
    const int64_t at = base + l * s.inner;
    const C gv = convert<C>(g[at]), yv = convert<C>(y[at]);
    dx[at] = convert<T>(log ? gv - acc_exp(yv) * sum : yv * (gv - sum));
  }
}

constexpr int kStridedThreads = 256;

}  // namespace

void launch_softmax(TensorArg y, TensorArg x, int64_t dim, bool log, cudaStream_t stream) {
  const Slices s = slices_of(x, dim);
  if (s.outer * s.len * s.inner == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    T* yp = static_cast<T*>(y.data);
    const T* xp = static_cast<const T*>(x.data);
    if (s.inner == 1) {
      const RowLaunch L = row_launch(s.outer, s.len);
      if (L.warp_per_row)
        softmax_rows_kernel<T, true>
            <<<L.blocks, L.threads, 0, stream>>>(yp, xp, s.outer, s.len, log);
      else
        softmax_rows_kernel<T, false>
            <<<L.blocks, L.threads, 0, stream>>>(yp, xp, s.outer, s.len, log);
    } else {
      const unsigned blocks = unsigned(ceil_div(s.outer * s.inner, kStridedThreads));
      softmax_strided_kernel<T><<<blocks, kStridedThreads, 0, stream>>>(yp, xp, s, log);
    }
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_softmax_backward(TensorArg dx, TensorArg grad, TensorArg y, int64_t dim, bool log,
                             cudaStream_t stream) {
  const Slices s = slices_of(y, dim);
  if (s.outer * s.len * s.inner == 0) return;
  visit_floating_code(y.dtype, [&]<class T>() {
    T* dp = static_cast<T*>(dx.data);
    const T* gp = static_cast<const T*>(grad.data);
    const T* yp = static_cast<const T*>(y.data);
    if (s.inner == 1) {
      const RowLaunch L = row_launch(s.outer, s.len);
      if (L.warp_per_row)
        softmax_backward_rows_kernel<T, true>
            <<<L.blocks, L.threads, 0, stream>>>(dp, gp, yp, s.outer, s.len, log);
      else
        softmax_backward_rows_kernel<T, false>
            <<<L.blocks, L.threads, 0, stream>>>(dp, gp, yp, s.outer, s.len, log);
    } else {
      const unsigned blocks = unsigned(ceil_div(s.outer * s.inner, kStridedThreads));
      softmax_backward_strided_kernel<T>
          <<<blocks, kStridedThreads, 0, stream>>>(dp, gp, yp, s, log);
    }
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
