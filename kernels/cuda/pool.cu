// Pooling kernels; see pool.h. Runtime names used: none beyond launches.
#include "kernels/cuda/pool.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;

int64_t blocks_for(int64_t n) { return (n + kThreads - 1) / kThreads; }

__device__ inline int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}
__device__ inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

template <class T> __device__ inline bool is_nan(T v) {
  return v != v;
}

// The outputs o in [lo, hi] whose window, starting at o * stride - pad and
// spanning `extent` input positions, may cover input position i.
struct OutRange {
  int64_t lo, hi;
};
__device__ inline OutRange covering_outputs(int64_t i, int64_t stride, int64_t pad, int64_t extent,
                                            int64_t out) {
  const int64_t lo = ceil_div(i + pad - extent + 1, stride);
  const int64_t hi = floor_div(i + pad, stride);
  return {lo < 0 ? 0 : lo, hi > out - 1 ? out - 1 : hi};
}

// ---- max ----------------------------------------------------------------------

template <class T>
__global__ void max_pool2d_kernel(const T* x, T* values, int64_t* indices, PoolPlanes p,
                                  PoolWindow w, int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t ow = idx % p.Wo, oh = (idx / p.Wo) % p.Ho, plane = idx / (p.Wo * p.Ho);
  const T* xp = x + plane * p.H * p.W;
  const int64_t dh = w.dilation[0], dw = w.dilation[1];
  int64_t h0 = oh * w.stride[0] - w.padding[0], w0 = ow * w.stride[1] - w.padding[1];
  const int64_t h1 = min(h0 + (w.kernel[0] - 1) * dh + 1, p.H);
  const int64_t w1 = min(w0 + (w.kernel[1] - 1) * dw + 1, p.W);
  while (h0 < 0) h0 += dh;
  while (w0 < 0) w0 += dw;
  // The first maximum in scan order wins; a NaN always replaces it.
  int64_t arg = h0 * p.W + w0;
  C best = -C(INFINITY);
  for (int64_t ih = h0; ih < h1; ih += dh)
    for (int64_t iw = w0; iw < w1; iw += dw) {
      const C v = convert<C>(xp[ih * p.W + iw]);
      if (v > best || is_nan(v)) {
        best = v;
        arg = ih * p.W + iw;
      }
    }
  values[idx] = convert<T>(best);
  indices[idx] = arg;
}

template <class T>
__global__ void max_pool2d_backward_kernel(const T* dy, const int64_t* indices, T* dx,
                                           PoolPlanes p, PoolWindow w, int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t iw = idx % p.W, ih = (idx / p.W) % p.H, plane = idx / (p.W * p.H);
  const int64_t base = plane * p.Ho * p.Wo, target = ih * p.W + iw;
  const OutRange rh = covering_outputs(ih, w.stride[0], w.padding[0],
                                       (w.kernel[0] - 1) * w.dilation[0] + 1, p.Ho);
  const OutRange rw = covering_outputs(iw, w.stride[1], w.padding[1],
                                       (w.kernel[1] - 1) * w.dilation[1] + 1, p.Wo);
  C acc = 0;
  for (int64_t oh = rh.lo; oh <= rh.hi; ++oh)
    for (int64_t ow = rw.lo; ow <= rw.hi; ++ow) {
      const int64_t o = base + oh * p.Wo + ow;
      if (indices[o] == target) acc += convert<C>(dy[o]);
    }
  dx[idx] = convert<T>(acc);
}

// ---- average ----------------------------------------------------------------------

// One output's window clipped to the input, and the count it is divided by.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

__device__ inline AvgWindow avg_window(const PoolWindow& w, const PoolPlanes& p, int64_t oh,
                                       int64_t ow) {
  int64_t h0 = oh * w.stride[0] - w.padding[0], w0 = ow * w.stride[1] - w.padding[1];
  int64_t h1 = min(h0 + w.kernel[0], p.H + w.padding[0]);
  int64_t w1 = min(w0 + w.kernel[1], p.W + w.padding[1]);
  const int64_t padded_count = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t(0));
  w0 = max(w0, int64_t(0));
  h1 = min(h1, p.H);
  w1 = min(w1, p.W);
  return {h0, h1, w0, w1, w.count_include_pad ? padded_count : (h1 - h0) * (w1 - w0)};
}

template <class T>
__global__ void avg_pool2d_kernel(const T* x, T* y, PoolPlanes p, PoolWindow w, int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t ow = idx % p.Wo, oh = (idx / p.Wo) % p.Ho, plane = idx / (p.Wo * p.Ho);
  const T* xp = x + plane * p.H * p.W;
  const AvgWindow win = avg_window(w, p, oh, ow);
  if (win.h0 >= win.h1 || win.w0 >= win.w1) {
    y[idx] = convert<T>(C(0));
    return;
  }
  C sum = 0;
  for (int64_t ih = win.h0; ih < win.h1; ++ih)
    for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += convert<C>(xp[ih * p.W + iw]);
  y[idx] = convert<T>(sum / C(win.divisor));
}

template <class T>
__global__ void avg_pool2d_backward_kernel(const T* dy, T* dx, PoolPlanes p, PoolWindow w,
                                           int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t iw = idx % p.W, ih = (idx / p.W) % p.H, plane = idx / (p.W * p.H);
  const T* dyp = dy + plane * p.Ho * p.Wo;
  const OutRange rh = covering_outputs(ih, w.stride[0], w.padding[0], w.kernel[0], p.Ho);
  const OutRange rw = covering_outputs(iw, w.stride[1], w.padding[1], w.kernel[1], p.Wo);
  C acc = 0;
  for (int64_t oh = rh.lo; oh <= rh.hi; ++oh)
    for (int64_t ow = rw.lo; ow <= rw.hi; ++ow) {
      const AvgWindow win = avg_window(w, p, oh, ow);
      if (ih < win.h0 || ih >= win.h1 || iw < win.w0 || iw >= win.w1) continue;
      acc += convert<C>(dyp[oh * p.Wo + ow]) / C(win.divisor);
    }
  dx[idx] = convert<T>(acc);
}

// ---- adaptive average ---------------------------------------------------------------

// Output cell i of n over an input of size `in` covers [floor(i in / n), ceil((i + 1) in / n)).
__device__ inline int64_t adaptive_start(int64_t i, int64_t n, int64_t in) {
  return (i / n) * in + (i % n) * in / n;
}
__device__ inline int64_t adaptive_end(int64_t i, int64_t n, int64_t in) {
  return 1 + ((i + 1) * in - 1) / n;
}

template <class T>
__global__ void adaptive_avg_pool2d_kernel(const T* x, T* y, PoolPlanes p, int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t ow = idx % p.Wo, oh = (idx / p.Wo) % p.Ho, plane = idx / (p.Wo * p.Ho);
  const T* xp = x + plane * p.H * p.W;
  const int64_t h0 = adaptive_start(oh, p.Ho, p.H), h1 = adaptive_end(oh, p.Ho, p.H);
  const int64_t w0 = adaptive_start(ow, p.Wo, p.W), w1 = adaptive_end(ow, p.Wo, p.W);
  C sum = 0;
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) sum += convert<C>(xp[ih * p.W + iw]);
  y[idx] = convert<T>(sum / C((h1 - h0) * (w1 - w0)));
}

template <class T>
__global__ void adaptive_avg_pool2d_backward_kernel(const T* dy, T* dx, PoolPlanes p,
                                                    int64_t total) {
  using C = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t iw = idx % p.W, ih = (idx / p.W) % p.H, plane = idx / (p.W * p.H);
  const T* dyp = dy + plane * p.Ho * p.Wo;
  // Cells covering ih: from floor(ih Ho / H) to ceil((ih + 1) Ho / H) - 1.
  const int64_t oh_lo = ih * p.Ho / p.H, oh_end = ((ih + 1) * p.Ho + p.H - 1) / p.H;
  const int64_t ow_lo = iw * p.Wo / p.W, ow_end = ((iw + 1) * p.Wo + p.W - 1) / p.W;
  C acc = 0;
  for (int64_t oh = oh_lo; oh < oh_end && oh < p.Ho; ++oh) {
    const int64_t h0 = adaptive_start(oh, p.Ho, p.H), h1 = adaptive_end(oh, p.Ho, p.H);
    if (ih < h0 || ih >= h1) continue;
    for (int64_t ow = ow_lo; ow < ow_end && ow < p.Wo; ++ow) {
      const int64_t w0 = adaptive_start(ow, p.Wo, p.W), w1 = adaptive_end(ow, p.Wo, p.W);
      if (iw < w0 || iw >= w1) continue;
      acc += convert<C>(dyp[oh * p.Wo + ow]) / C((h1 - h0) * (w1 - w0));
    }
  }
  dx[idx] = convert<T>(acc);
}

template <class T> const T* in_ptr(const TensorArg& t) { return static_cast<const T*>(t.data); }
template <class T> T* out_ptr(const TensorArg& t) { return static_cast<T*>(t.data); }

}  // namespace

void launch_max_pool2d(TensorArg x, TensorArg values, TensorArg indices, PoolPlanes p,
                       PoolWindow w, cudaStream_t stream) {
  const int64_t total = p.count * p.Ho * p.Wo;
  if (total == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    max_pool2d_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        in_ptr<T>(x), out_ptr<T>(values), out_ptr<int64_t>(indices), p, w, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_max_pool2d_backward(TensorArg dy, TensorArg indices, TensorArg dx, PoolPlanes p,
                                PoolWindow w, cudaStream_t stream) {
  const int64_t total = p.count * p.H * p.W;
  if (total == 0) return;
  visit_floating_code(dx.dtype, [&]<class T>() {
    max_pool2d_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        in_ptr<T>(dy), in_ptr<int64_t>(indices), out_ptr<T>(dx), p, w, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_avg_pool2d(TensorArg x, TensorArg y, PoolPlanes p, PoolWindow w, cudaStream_t stream) {
  const int64_t total = p.count * p.Ho * p.Wo;
  if (total == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    avg_pool2d_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(in_ptr<T>(x), out_ptr<T>(y),
                                                                       p, w, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_avg_pool2d_backward(TensorArg dy, TensorArg dx, PoolPlanes p, PoolWindow w,
                                cudaStream_t stream) {
  const int64_t total = p.count * p.H * p.W;
  if (total == 0) return;
  visit_floating_code(dx.dtype, [&]<class T>() {
    avg_pool2d_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        in_ptr<T>(dy), out_ptr<T>(dx), p, w, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_adaptive_avg_pool2d(TensorArg x, TensorArg y, PoolPlanes p, cudaStream_t stream) {
  const int64_t total = p.count * p.Ho * p.Wo;
  if (total == 0) return;
  visit_floating_code(x.dtype, [&]<class T>() {
    adaptive_avg_pool2d_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        in_ptr<T>(x), out_ptr<T>(y), p, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_adaptive_avg_pool2d_backward(TensorArg dy, TensorArg dx, PoolPlanes p,
                                         cudaStream_t stream) {
  const int64_t total = p.count * p.H * p.W;
  if (total == 0) return;
  visit_floating_code(dx.dtype, [&]<class T>() {
    adaptive_avg_pool2d_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
        in_ptr<T>(dy), out_ptr<T>(dx), p, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
