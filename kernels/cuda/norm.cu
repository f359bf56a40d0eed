// layer_norm / rms_norm / batch_norm and their backward on the GPU.
//   layer and RMS norm (LayerNormArgs::centered false): one warp (short rows) or block per row for the statistics,
//     the output and grad_x; grad_weight / grad_bias are column sums over
//     rows, reduced by fixed row blocks into partials that a second kernel
//     adds in block order (deterministic, no atomics).
//   batch norm: per-channel pair sums over (B, S) cut into fixed slices
//     (batch_norm_splits), combined in slice order by a per-channel kernel
//     that also finishes the statistics; elementwise passes run one thread
//     per element.
// Statistics accumulate in the saved-statistics type (float, double for f64).
// Runtime names used: cudaStream_t, cudaGetLastError, __shfl_xor_sync (via
// block_reduce.cuh), __syncthreads.
#include "kernels/cuda/norm.h"

#include "kernels/cuda/acc_math.cuh"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/row_groups.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;      // columns / channels per column block
constexpr int kTileRows = 16;  // threadIdx.y rows of a column block

template <class T> __device__ inline compute_t<T> load_or(const T* p, int64_t i,
                                                          compute_t<T> fallback) {
  return p ? convert<compute_t<T>>(p[i]) : fallback;
}
template <class T> const T* data_of(const TensorArg& t) { return static_cast<const T*>(t.data); }
template <class T> T* mutable_data_of(const TensorArg& t) { return static_cast<T*>(t.data); }

// ---- layer norm ------------------------------------------------------------------

// Two passes over the row (mean, then squared deviations: no cancellation),
// a third writes y.
template <class T, bool kWarp>
__global__ void layer_norm_kernel(T* y, compute_t<T>* mean, compute_t<T>* rstd, const T* x,
                                  const T* w, const T* b, LayerNormArgs a) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  if (kWarp && t.row >= a.rows) return;
  const int64_t N = a.cols;
  const T* xr = x + t.row * N;
  T* yr = y + t.row * N;
  C m = 0;
  if (a.centered) {
    C s = 0;
    for (int64_t j = t.lane; j < N; j += t.width) s += convert<C>(xr[j]);
    m = group_reduce<kWarp>(s, SumOp{}, C(0)) / C(N);
  }
  C s2 = 0;
  for (int64_t j = t.lane; j < N; j += t.width) {
    const C d = convert<C>(xr[j]) - m;
    s2 += d * d;
  }
  const C var = group_reduce<kWarp>(s2, SumOp{}, C(0)) / C(N);
  const C r = C(1) / acc_sqrt(var + C(a.eps));
  if (t.lane == 0) {
    if (mean) mean[t.row] = m;
    rstd[t.row] = r;
  }
  for (int64_t j = t.lane; j < N; j += t.width) {
    C v = (convert<C>(xr[j]) - m) * r;
    if (w) v *= convert<C>(w[j]);
    if (b) v += convert<C>(b[j]);
    yr[j] = convert<T>(v);
  }
}

// grad_x = rstd (dy - mean(dy) - xhat mean(dy xhat)), dy = grad * weight;
// RMS norm: no mean, no mean(dy) term.
template <class T, bool kWarp>
__global__ void layer_norm_grad_x_kernel(T* gx, const T* g, const T* x, const compute_t<T>* mean,
                                         const compute_t<T>* rstd, const T* w, LayerNormArgs a) {
  using C = compute_t<T>;
  const RowThread<kWarp> t;
  if (kWarp && t.row >= a.rows) return;
  const int64_t N = a.cols, off = t.row * N;
  const C m = mean ? mean[t.row] : C(0), r = rstd[t.row];
  C sum_dy = 0, sum_dy_xhat = 0;
  for (int64_t j = t.lane; j < N; j += t.width) {
    const C dy = convert<C>(g[off + j]) * load_or(w, j, C(1));
    sum_dy += dy;
    sum_dy_xhat += dy * (convert<C>(x[off + j]) - m) * r;
  }
  const C mean_dy = a.centered ? group_reduce<kWarp>(sum_dy, SumOp{}, C(0)) / C(N) : C(0);
  const C mean_dy_xhat = group_reduce<kWarp>(sum_dy_xhat, SumOp{}, C(0)) / C(N);
  for (int64_t j = t.lane; j < N; j += t.width) {
    const C dy = convert<C>(g[off + j]) * load_or(w, j, C(1));
    const C xhat = (convert<C>(x[off + j]) - m) * r;
    gx[off + j] = convert<T>(r * (dy - mean_dy - xhat * mean_dy_xhat));
  }
}

// Block (kTile, kTileRows) at (column tile, row block k): partial sums of
// grad * xhat and grad over the block's rows, for kTile columns.
template <class T>
__global__ void layer_norm_affine_partials_kernel(compute_t<T>* partial, const T* g, const T* x,
                                                  const compute_t<T>* mean,
                                                  const compute_t<T>* rstd, LayerNormArgs a,
                                                  int64_t rows_per_block) {
  using C = compute_t<T>;
  __shared__ C sw[kTileRows][kTile], sb[kTileRows][kTile];
  const int64_t j = int64_t(blockIdx.x) * kTile + threadIdx.x, k = blockIdx.y;
  const int64_t r0 = k * rows_per_block;
  const int64_t r1 = r0 + rows_per_block < a.rows ? r0 + rows_per_block : a.rows;
  C acc_w = 0, acc_b = 0;
  if (j < a.cols)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) {
      const C gv = convert<C>(g[r * a.cols + j]);
      acc_w += gv * (convert<C>(x[r * a.cols + j]) - (mean ? mean[r] : C(0))) * rstd[r];
      acc_b += gv;
    }
  sw[threadIdx.y][threadIdx.x] = acc_w;
  sb[threadIdx.y][threadIdx.x] = acc_b;
  __syncthreads();
  if (threadIdx.y != 0 || j >= a.cols) return;
  for (int i = 1; i < kTileRows; ++i) {
    acc_w += sw[i][threadIdx.x];
    acc_b += sb[i][threadIdx.x];
  }
  partial[k * 2 * a.cols + j] = acc_w;
  partial[k * 2 * a.cols + a.cols + j] = acc_b;
}

template <class T>
__global__ void layer_norm_affine_finish_kernel(T* gw, T* gb, const compute_t<T>* partial,
                                                int64_t blocks, int64_t N) {
  using C = compute_t<T>;
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= N) return;
  C sw = 0, sb = 0;
  for (int64_t k = 0; k < blocks; ++k) {
    sw += partial[k * 2 * N + j];
    sb += partial[k * 2 * N + N + j];
  }
  if (gw) gw[j] = convert<T>(sw);
  if (gb) gb[j] = convert<T>(sb);
}

template <class T> __global__ void fill_zero_kernel(T* p, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) p[i] = convert<T>(0.0f);
}

// ---- batch norm ------------------------------------------------------------------

template <class C> struct Pair {
  C a, b;
};

// Element i of x (B, C, S) belongs to channel (i / S) % C. Element n of
// channel c's B * S elements is at (n / S * C + c) * S + n % S.
__device__ inline int64_t channel_element(int64_t n, int64_t c, const BatchNormArgs& a) {
  if (a.spatial == 1) return n * a.channels + c;
  return (n / a.spatial * a.channels + c) * a.spatial + n % a.spatial;
}

// term(i, c) -> Pair of element i (offset in x) of channel c.
// S > 1: block per (channel, slice); S == 1: (kTile channels, slice) per block.
template <class C, class Term>
__global__ void channel_partials_kernel(Pair<C>* partial, BatchNormArgs a, int64_t per_slice,
                                        Term term) {
  __shared__ C sa[kTileRows * kTile], sb[kTileRows * kTile];
  const int64_t n_total = a.batch * a.spatial, slice = blockIdx.y;
  const int64_t begin = slice * per_slice;
  const int64_t end = begin + per_slice < n_total ? begin + per_slice : n_total;
  const bool columns = a.spatial == 1;
  const int64_t c = columns ? int64_t(blockIdx.x) * kTile + threadIdx.x : blockIdx.x;
  const int step = columns ? kTileRows : int(blockDim.x);
  const int first = columns ? int(threadIdx.y) : int(threadIdx.x);
  Pair<C> acc{0, 0};
  if (c < a.channels)
    for (int64_t n = begin + first; n < end; n += step) {
      const Pair<C> p = term(channel_element(n, c, a), c);
      acc.a += p.a;
      acc.b += p.b;
    }
  if (!columns) {
    acc.a = block_reduce_sum(acc.a);
    acc.b = block_reduce_sum(acc.b);
    if (threadIdx.x == 0) partial[slice * a.channels + c] = acc;
    return;
  }
  const int at = threadIdx.y * kTile + threadIdx.x;
  sa[at] = acc.a;
  sb[at] = acc.b;
  __syncthreads();
  if (threadIdx.y != 0 || c >= a.channels) return;
  for (int i = 1; i < kTileRows; ++i) {
    acc.a += sa[i * kTile + threadIdx.x];
    acc.b += sb[i * kTile + threadIdx.x];
  }
  partial[slice * a.channels + c] = acc;
}

// {d, d^2} with d = x - the channel's first element (forward statistics).
template <class T> struct ShiftedMoments {
  const T* x;
  int64_t spatial;
  __device__ Pair<compute_t<T>> operator()(int64_t i, int64_t c) const {
    using C = compute_t<T>;
    const C d = convert<C>(x[i]) - convert<C>(x[c * spatial]);
    return {d, d * d};
  }
};

// {grad, grad * xhat} (backward).
template <class T> struct GradMoments {
  const T* grad;
  const T* x;
  const compute_t<T>* mean;
  const compute_t<T>* invstd;
  __device__ Pair<compute_t<T>> operator()(int64_t i, int64_t c) const {
    using C = compute_t<T>;
    const C g = convert<C>(grad[i]);
    return {g, g * (convert<C>(x[i]) - mean[c]) * invstd[c]};
  }
};

template <class C>
__device__ inline Pair<C> channel_total(const Pair<C>* partial, int64_t slices, int64_t c,
                                        int64_t channels) {
  Pair<C> t{0, 0};
  for (int64_t s = 0; s < slices; ++s) {
    t.a += partial[s * channels + c].a;
    t.b += partial[s * channels + c].b;
  }
  return t;
}

template <class C, class Term>
void channel_partials(Pair<C>* partial, const BatchNormArgs& a, Term term, cudaStream_t stream) {
  const int64_t slices = batch_norm_splits(a);
  const int64_t per_slice = ceil_div(a.batch * a.spatial, slices);
  if (a.spatial == 1) {
    const dim3 grid(unsigned(ceil_div(a.channels, kTile)), unsigned(slices));
    channel_partials_kernel<C><<<grid, dim3(kTile, kTileRows), 0, stream>>>(partial, a, per_slice,
                                                                            term);
  } else {
    const dim3 grid(unsigned(a.channels), unsigned(slices));
    channel_partials_kernel<C><<<grid, kThreads, 0, stream>>>(partial, a, per_slice, term);
  }
  DLT_GPU_CHECK_LAUNCH();
}

// Training: batch statistics from sums of d = x - shift (shift: the
// channel's first element, so E[d^2] - E[d]^2 does not cancel), running
// statistics moved towards them (unbiased variance), as the CPU.
template <class T, class RM, class RV>
__global__ void batch_stats_kernel(compute_t<T>* save_mean, compute_t<T>* save_invstd,
                                   RM* running_mean, RV* running_var, const T* x,
                                   const Pair<compute_t<T>>* partial, int64_t slices,
                                   BatchNormArgs a) {
  using C = compute_t<T>;
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.channels) return;
  const Pair<C> sums = channel_total(partial, slices, c, a.channels);
  const double n = double(a.batch * a.spatial);
  const double m = double(sums.a) / n;
  const double mean = double(convert<C>(x[c * a.spatial])) + m;
  const double raw_var = double(sums.b) / n - m * m;
  const double var = raw_var > 0 ? raw_var : 0.0;
  save_mean[c] = C(mean);
  save_invstd[c] = C(1.0 / sqrt(var + a.eps));
  if (running_mean)
    running_mean[c] = convert<RM>((1 - a.momentum) * convert<double>(running_mean[c]) +
                                  a.momentum * mean);
  if (running_var)
    running_var[c] = convert<RV>((1 - a.momentum) * convert<double>(running_var[c]) +
                                 a.momentum * var * n / (n - 1));
}

// Evaluation: the running statistics.
template <class T, class RM, class RV>
__global__ void running_stats_kernel(compute_t<T>* save_mean, compute_t<T>* save_invstd,
                                     const RM* running_mean, const RV* running_var,
                                     BatchNormArgs a) {
  using C = compute_t<T>;
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= a.channels) return;
  save_mean[c] = C(convert<double>(running_mean[c]));
  save_invstd[c] = C(1.0 / sqrt(convert<double>(running_var[c]) + a.eps));
}

// y = (x - mean) invstd weight + bias per channel.
template <class T>
__global__ void batch_norm_apply_kernel(T* y, const T* x, const compute_t<T>* mean,
                                        const compute_t<T>* invstd, const T* w, const T* b,
                                        BatchNormArgs a) {
  using C = compute_t<T>;
  const int64_t total = a.batch * a.channels * a.spatial;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i / a.spatial % a.channels;
    const C scale = invstd[c] * load_or(w, c, C(1));
    y[i] = convert<T>((convert<C>(x[i]) - mean[c]) * scale + load_or(b, c, C(0)));
  }
}

// Per channel: grad_weight = sum(grad xhat), grad_bias = sum(grad), and the
// coefficients of grad_x = (grad - grad_mean - (x - mean) proj) scale
// (training; eval: grad_mean = proj = 0, the running statistics are constants).
template <class T>
__global__ void batch_norm_backward_stats_kernel(T* gw, T* gb, compute_t<T>* coef,
                                                 const Pair<compute_t<T>>* partial,
                                                 const compute_t<T>* save_mean,
                                                 const compute_t<T>* save_invstd, const T* w,
                                                 bool have_sums, int64_t slices,
                                                 BatchNormArgs a) {
  using C = compute_t<T>;
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t Cn = a.channels;
  if (c >= Cn) return;
  const Pair<C> sums =
      have_sums ? channel_total(partial, slices, c, Cn) : Pair<C>{0, 0};
  if (gw) gw[c] = convert<T>(sums.b);
  if (gb) gb[c] = convert<T>(sums.a);
  const C n = C(a.batch * a.spatial), invstd = save_invstd[c];
  coef[c] = save_mean[c];
  coef[Cn + c] = a.training ? sums.a / n : C(0);
  coef[2 * Cn + c] = a.training ? sums.b / n * invstd : C(0);
  coef[3 * Cn + c] = invstd * load_or(w, c, C(1));
}

template <class T>
__global__ void batch_norm_grad_x_kernel(T* gx, const T* g, const T* x, const compute_t<T>* coef,
                                         BatchNormArgs a) {
  using C = compute_t<T>;
  const int64_t total = a.batch * a.channels * a.spatial, Cn = a.channels;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i / a.spatial % Cn;
    const C xm = convert<C>(x[i]) - coef[c];
    const C centred = convert<C>(g[i]) - coef[Cn + c] - xm * coef[2 * Cn + c];
    gx[i] = convert<T>(centred * coef[3 * Cn + c]);
  }
}

unsigned elementwise_blocks(int64_t n) {
  return unsigned(std::min<int64_t>(ceil_div(n, kThreads), 65536));
}

}  // namespace

void launch_layer_norm(TensorArg y, TensorArg mean, TensorArg rstd, TensorArg x, TensorArg weight,
                       TensorArg bias, const LayerNormArgs& a, cudaStream_t stream) {
  if (a.rows == 0 || a.cols == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    using C = compute_t<T>;
    auto* yp = mutable_data_of<T>(y);
    auto* mp = mutable_data_of<C>(mean);
    auto* rp = mutable_data_of<C>(rstd);
    const RowLaunch L = row_launch(a.rows, a.cols);
    if (L.warp_per_row)
      layer_norm_kernel<T, true><<<L.blocks, L.threads, 0, stream>>>(
          yp, mp, rp, data_of<T>(x), data_of<T>(weight), data_of<T>(bias), a);
    else
      layer_norm_kernel<T, false><<<L.blocks, L.threads, 0, stream>>>(
          yp, mp, rp, data_of<T>(x), data_of<T>(weight), data_of<T>(bias), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_layer_norm_backward(TensorArg grad_x, TensorArg grad_weight, TensorArg grad_bias,
                                TensorArg grad, TensorArg x, TensorArg mean, TensorArg rstd,
                                TensorArg weight, const LayerNormArgs& a, void* workspace,
                                cudaStream_t stream) {
  visit_floating_code(x.dtype, [&]<class T>() {
    using C = compute_t<T>;
    T* gw = mutable_data_of<T>(grad_weight);
    T* gb = mutable_data_of<T>(grad_bias);
    if (a.rows == 0 || a.cols == 0) {  // sums over no rows are 0
      for (T* p : {gw, gb})
        if (p && a.cols > 0) {
          fill_zero_kernel<T>
              <<<unsigned(ceil_div(a.cols, kThreads)), kThreads, 0, stream>>>(p, a.cols);
          DLT_GPU_CHECK_LAUNCH();
        }
      return;
    }
    const T* g = data_of<T>(grad);
    const T* xp = data_of<T>(x);
    const C* mp = data_of<C>(mean);
    const C* rp = data_of<C>(rstd);
    if (T* gx = mutable_data_of<T>(grad_x)) {
      const RowLaunch L = row_launch(a.rows, a.cols);
      if (L.warp_per_row)
        layer_norm_grad_x_kernel<T, true><<<L.blocks, L.threads, 0, stream>>>(
            gx, g, xp, mp, rp, data_of<T>(weight), a);
      else
        layer_norm_grad_x_kernel<T, false><<<L.blocks, L.threads, 0, stream>>>(
            gx, g, xp, mp, rp, data_of<T>(weight), a);
      DLT_GPU_CHECK_LAUNCH();
    }
    if (!gw && !gb) return;
    auto* partial = static_cast<C*>(workspace);
    const int64_t blocks = layer_norm_row_blocks(a.rows);
    const int64_t rows_per_block = ceil_div(a.rows, blocks);
    const dim3 grid(unsigned(ceil_div(a.cols, kTile)), unsigned(blocks));
    layer_norm_affine_partials_kernel<T><<<grid, dim3(kTile, kTileRows), 0, stream>>>(
        partial, g, xp, mp, rp, a, rows_per_block);
    DLT_GPU_CHECK_LAUNCH();
    layer_norm_affine_finish_kernel<T><<<unsigned(ceil_div(a.cols, kThreads)), kThreads, 0,
                                         stream>>>(gw, gb, partial, blocks, a.cols);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_batch_norm(TensorArg y, TensorArg save_mean, TensorArg save_invstd, TensorArg x,
                       TensorArg running_mean, TensorArg running_var, TensorArg weight,
                       TensorArg bias, const BatchNormArgs& a, void* workspace,
                       cudaStream_t stream) {
  visit_floating_code(x.dtype, [&]<class T>() {
    using C = compute_t<T>;
    const T* xp = data_of<T>(x);
    C* mp = mutable_data_of<C>(save_mean);
    C* sp = mutable_data_of<C>(save_invstd);
    const unsigned channel_blocks = unsigned(ceil_div(a.channels, kThreads));
    if (a.channels == 0) return;
    // The running statistics may differ in dtype from x and from each other.
    visit_floating_code(running_mean.dtype, [&]<class RM>() {
      visit_floating_code(running_var.dtype, [&]<class RV>() {
        if (a.training) {
          auto* partial = static_cast<Pair<C>*>(workspace);
          channel_partials(partial, a, ShiftedMoments<T>{xp, a.spatial}, stream);
          batch_stats_kernel<T, RM, RV><<<channel_blocks, kThreads, 0, stream>>>(
              mp, sp, mutable_data_of<RM>(running_mean), mutable_data_of<RV>(running_var), xp,
              partial, batch_norm_splits(a), a);
        } else {
          running_stats_kernel<T, RM, RV><<<channel_blocks, kThreads, 0, stream>>>(
              mp, sp, data_of<RM>(running_mean), data_of<RV>(running_var), a);
        }
        DLT_GPU_CHECK_LAUNCH();
      });
    });
    const int64_t total = a.batch * a.channels * a.spatial;
    if (total == 0) return;
    batch_norm_apply_kernel<T><<<elementwise_blocks(total), kThreads, 0, stream>>>(
        mutable_data_of<T>(y), xp, mp, sp, data_of<T>(weight), data_of<T>(bias), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_batch_norm_backward(TensorArg grad_x, TensorArg grad_weight, TensorArg grad_bias,
                                TensorArg grad, TensorArg x, TensorArg weight,
                                TensorArg save_mean, TensorArg save_invstd,
                                const BatchNormArgs& a, void* workspace, cudaStream_t stream) {
  if (a.channels == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    using C = compute_t<T>;
    const T* g = data_of<T>(grad);
    const T* xp = data_of<T>(x);
    const C* mp = data_of<C>(save_mean);
    const C* sp = data_of<C>(save_invstd);
    T* gx = mutable_data_of<T>(grad_x);
    T* gw = mutable_data_of<T>(grad_weight);
    T* gb = mutable_data_of<T>(grad_bias);
    const int64_t total = a.batch * a.channels * a.spatial;
    auto* partial = static_cast<Pair<C>*>(workspace);
    C* coef = reinterpret_cast<C*>(partial + batch_norm_splits(a) * a.channels);
    const bool have_sums = total > 0 && (gw || gb || (gx && a.training));
    if (have_sums)
      channel_partials(partial, a, GradMoments<T>{g, xp, mp, sp}, stream);
    batch_norm_backward_stats_kernel<T><<<unsigned(ceil_div(a.channels, kThreads)), kThreads, 0,
                                          stream>>>(gw, gb, coef, partial, mp, sp,
                                                    data_of<T>(weight), have_sums,
                                                    batch_norm_splits(a), a);
    DLT_GPU_CHECK_LAUNCH();
    if (!gx || total == 0) return;
    batch_norm_grad_x_kernel<T>
        <<<elementwise_blocks(total), kThreads, 0, stream>>>(gx, g, xp, coef, a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
