// cross_entropy / nll_loss and their backward on the GPU (kernels/cpu/loss.cpp
// is the reference). Per-position losses go to a double scratch array; one
// block then sums it in a fixed order (mean divides by the host-known count
// of non-ignored targets), so the loss does not depend on timing.
//   D == 1: each position's classes are a contiguous row, one warp / block each;
//   D > 1: one thread per position, classes strided by D (neighbouring
//          threads read neighbouring positions).
// Runtime names used: cudaStream_t, cudaGetLastError, __shfl_xor_sync (via
// block_reduce.cuh), __syncthreads.
#include "kernels/cuda/loss.h"

#include <limits>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/online_softmax.cuh"
#include "kernels/cuda/row_groups.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kSumThreads = 1024;

struct CountBad {
  int64_t count, bad;
};
__device__ inline CountBad shfl_xor(CountBad v, int mask) {
  return {gpu::shfl_xor(v.count, mask), gpu::shfl_xor(v.bad, mask)};
}
struct MergeCountBad {
  __device__ CountBad operator()(CountBad a, CountBad b) const {
    return {a.count + b.count, a.bad < b.bad ? a.bad : b.bad};
  }
};

__global__ void count_targets_kernel(LossArgs a, int64_t* result) {
  const int64_t P = a.layout.positions(), N = a.layout.classes;
  CountBad v{0, P};
  for (int64_t p = threadIdx.x; p < P; p += blockDim.x) {
    const int64_t t = a.target[p];
    if (t == a.ignore_index) continue;
    if (t >= 0 && t < N) ++v.count;
    else if (p < v.bad) v.bad = p;
  }
  v = block_reduce(v, MergeCountBad{}, CountBad{0, P});
  if (threadIdx.x != 0) return;
  result[0] = v.count;
  result[1] = v.bad;
  result[2] = v.bad < P ? a.target[v.bad] : 0;
}

// d loss / d loss_p for a position whose target is not ignored.
template <class T>
__device__ inline double grad_scale(const T* grad, int64_t p, const LossArgs& a) {
  if (a.reduction == LossReduction::none) return convert<double>(grad[p]);
  const double g = convert<double>(grad[0]);
  return a.reduction == LossReduction::mean ? g / double(a.count) : g;
}

// loss_p = (1 - eps)(lse - x[t]) + eps (lse - mean_c x_c), 0 where ignored.
template <class C> __device__ inline double ce_loss(C lse, C x_target, C mean_x, C eps) {
  C loss = lse - x_target;
  if (eps != C(0)) loss = (C(1) - eps) * loss + eps * (lse - mean_x);
  return double(loss);
}

template <class T, bool kWarp>
__global__ void cross_entropy_rows_kernel(const T* x, LossArgs a, double* losses) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  const int64_t P = a.layout.positions(), N = a.layout.classes;
  if (kWarp && t.row >= P) return;
  const T* xr = x + t.row * N;
  MaxSum<C> ms = empty_max_sum<C>();
  C sum_x = 0;
  for (int64_t c = t.lane; c < N; c += t.width) {
    const C v = convert<C>(xr[c]);
    ms = add_value(ms, v);
    sum_x += v;
  }
  ms = group_reduce<kWarp>(ms, MergeMaxSum{}, empty_max_sum<C>());
  const C eps = C(a.label_smoothing);
  if (eps != C(0)) sum_x = group_reduce<kWarp>(sum_x, SumOp{}, C(0));
  if (t.lane != 0) return;
  const int64_t target = a.target[t.row];
  losses[t.row] = target == a.ignore_index
                      ? 0.0
                      : ce_loss(log_sum_exp(ms), convert<C>(xr[target]), sum_x / C(N), eps);
}

template <class T> __global__ void cross_entropy_strided_kernel(const T* x, LossArgs a,
                                                                double* losses) {
  using C = compute_t<T>;
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const ClassLayout& l = a.layout;
  if (p >= l.positions()) return;
  const T* x0 = x + l.base(p);
  MaxSum<C> ms = empty_max_sum<C>();
  C sum_x = 0;
  for (int64_t c = 0; c < l.classes; ++c) {
    const C v = convert<C>(x0[c * l.inner]);
    ms = add_value(ms, v);
    sum_x += v;
  }
  const int64_t target = a.target[p];
  losses[p] = target == a.ignore_index ? 0.0
                                       : ce_loss(log_sum_exp(ms), convert<C>(x0[target * l.inner]),
                                                 sum_x / C(l.classes), C(a.label_smoothing));
}

template <class T> __global__ void nll_loss_kernel(const T* x, LossArgs a, double* losses) {
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const ClassLayout& l = a.layout;
  if (p >= l.positions()) return;
  const int64_t target = a.target[p];
  losses[p] = target == a.ignore_index ? 0.0 : -convert<double>(x[l.base(p) + target * l.inner]);
}

// none: out[p] = loss_p; otherwise one block sums the losses in double.
template <class T> __global__ void write_losses_kernel(const double* losses, int64_t P, T* out) {
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p < P) out[p] = convert<T>(losses[p]);
}
template <class T>
__global__ void sum_losses_kernel(const double* losses, int64_t P, LossArgs a, T* out) {
  double total = 0;
  for (int64_t p = threadIdx.x; p < P; p += blockDim.x) total += losses[p];
  total = block_reduce_sum(total);
  if (threadIdx.x == 0)
    out[0] = convert<T>(a.reduction == LossReduction::mean ? total / double(a.count) : total);
}

template <class T> void write_loss(TensorArg out, const double* losses, const LossArgs& a,
                                   cudaStream_t stream) {
  const int64_t P = a.layout.positions();
  T* o = static_cast<T*>(out.data);
  if (a.reduction == LossReduction::none) {
    if (P == 0) return;
    write_losses_kernel<T><<<unsigned(ceil_div(P, kThreads)), kThreads, 0, stream>>>(losses, P, o);
  } else {
    sum_losses_kernel<T><<<1, kSumThreads, 0, stream>>>(losses, P, a, o);
  }
  DLT_GPU_CHECK_LAUNCH();
}

// d loss_p / d x_c = scale_p (softmax_c - eps / N - (1 - eps) [c == t_p]).
template <class C> __device__ inline C ce_grad(C scale, C x, C lse, C smooth, C on_target,
                                               bool is_target) {
  return scale * (acc_exp(x - lse) - smooth - (is_target ? on_target : C(0)));
}

template <class T, bool kWarp>
__global__ void cross_entropy_backward_rows_kernel(T* dx, const T* grad, const T* x, LossArgs a) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  const int64_t P = a.layout.positions(), N = a.layout.classes;
  if (kWarp && t.row >= P) return;
  const T* xr = x + t.row * N;
  T* dr = dx + t.row * N;
  MaxSum<C> ms = empty_max_sum<C>();
  for (int64_t c = t.lane; c < N; c += t.width) ms = add_value(ms, convert<C>(xr[c]));
  ms = group_reduce<kWarp>(ms, MergeMaxSum{}, empty_max_sum<C>());
  const C lse = log_sum_exp(ms);
  const int64_t target = a.target[t.row];
  const C scale = target == a.ignore_index ? C(0) : C(grad_scale(grad, t.row, a));
  const C smooth = C(a.label_smoothing) / C(N), on_target = C(1 - a.label_smoothing);
  for (int64_t c = t.lane; c < N; c += t.width)
    dr[c] = convert<T>(ce_grad(scale, convert<C>(xr[c]), lse, smooth, on_target, c == target));
}

template <class T>
__global__ void cross_entropy_backward_strided_kernel(T* dx, const T* grad, const T* x,
                                                      LossArgs a) {
  using C = compute_t<T>;
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const ClassLayout& l = a.layout;
  if (p >= l.positions()) return;
  const int64_t base = l.base(p);
  MaxSum<C> ms = empty_max_sum<C>();
  for (int64_t c = 0; c < l.classes; ++c) ms = add_value(ms, convert<C>(x[base + c * l.inner]));
  const C lse = log_sum_exp(ms);
  const int64_t target = a.target[p];
  const C scale = target == a.ignore_index ? C(0) : C(grad_scale(grad, p, a));
  const C smooth = C(a.label_smoothing) / C(l.classes), on_target = C(1 - a.label_smoothing);
  for (int64_t c = 0; c < l.classes; ++c) {
    const int64_t at = base + c * l.inner;
    dx[at] = convert<T>(ce_grad(scale, convert<C>(x[at]), lse, smooth, on_target, c == target));
  }
}

// One thread per element of dx (B, N, D): -scale_p at the target class, else 0.
template <class T> __global__ void nll_loss_backward_kernel(T* dx, const T* grad, LossArgs a) {
  const ClassLayout& l = a.layout;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= l.positions() * l.classes) return;
  const int64_t d = i % l.inner, c = i / l.inner % l.classes, b = i / (l.inner * l.classes);
  const int64_t p = b * l.inner + d, target = a.target[p];
  const bool hit = target != a.ignore_index && target == c;
  dx[i] = convert<T>(hit ? -grad_scale(grad, p, a) : 0.0);
}

}  // namespace

void launch_count_targets(const LossArgs& a, int64_t* result, cudaStream_t stream) {
  count_targets_kernel<<<1, kSumThreads, 0, stream>>>(a, result);
  DLT_GPU_CHECK_LAUNCH();
}

void launch_cross_entropy(TensorArg out, TensorArg logits, const LossArgs& a, double* losses,
                          cudaStream_t stream) {
  const int64_t P = a.layout.positions();
  visit_floating_code(logits.dtype, [&]<class T>() {
    const T* x = static_cast<const T*>(logits.data);
    if (P > 0 && a.layout.inner == 1) {
      const RowLaunch L = row_launch(P, a.layout.classes);
      if (L.warp_per_row)
        cross_entropy_rows_kernel<T, true><<<L.blocks, L.threads, 0, stream>>>(x, a, losses);
      else
        cross_entropy_rows_kernel<T, false><<<L.blocks, L.threads, 0, stream>>>(x, a, losses);
      DLT_GPU_CHECK_LAUNCH();
    } else if (P > 0) {
      cross_entropy_strided_kernel<T>
          <<<unsigned(ceil_div(P, kThreads)), kThreads, 0, stream>>>(x, a, losses);
      DLT_GPU_CHECK_LAUNCH();
    }
    write_loss<T>(out, losses, a, stream);
  });
}

void launch_cross_entropy_backward(TensorArg dx, TensorArg grad, TensorArg logits,
                                   const LossArgs& a, cudaStream_t stream) {
  const int64_t P = a.layout.positions();
  if (P * a.layout.classes == 0) return;
  visit_floating_code(logits.dtype, [&]<class T>() {
    T* d = static_cast<T*>(dx.data);
    const T* g = static_cast<const T*>(grad.data);
    const T* x = static_cast<const T*>(logits.data);
    if (a.layout.inner == 1) {
      const RowLaunch L = row_launch(P, a.layout.classes);
      if (L.warp_per_row)
        cross_entropy_backward_rows_kernel<T, true>
            <<<L.blocks, L.threads, 0, stream>>>(d, g, x, a);
      else
        cross_entropy_backward_rows_kernel<T, false>
            <<<L.blocks, L.threads, 0, stream>>>(d, g, x, a);
    } else {
      cross_entropy_backward_strided_kernel<T>
          <<<unsigned(ceil_div(P, kThreads)), kThreads, 0, stream>>>(d, g, x, a);
    }
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_nll_loss(TensorArg out, TensorArg log_probs, const LossArgs& a, double* losses,
                     cudaStream_t stream) {
  const int64_t P = a.layout.positions();
  visit_floating_code(log_probs.dtype, [&]<class T>() {
    if (P > 0) {
      nll_loss_kernel<T><<<unsigned(ceil_div(P, kThreads)), kThreads, 0, stream>>>(
          static_cast<const T*>(log_probs.data), a, losses);
      DLT_GPU_CHECK_LAUNCH();
    }
    write_loss<T>(out, losses, a, stream);
  });
}

void launch_nll_loss_backward(TensorArg dx, TensorArg grad, const LossArgs& a,
                              cudaStream_t stream) {
  const int64_t n = a.layout.positions() * a.layout.classes;
  if (n == 0) return;
  visit_floating_code(dx.dtype, [&]<class T>() {
    nll_loss_backward_kernel<T><<<unsigned(ceil_div(n, kThreads)), kThreads, 0, stream>>>(
        static_cast<T*>(dx.data), static_cast<const T*>(grad.data), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
