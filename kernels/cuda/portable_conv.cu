// Convolution as implicit GEMM (portable_conv.h). Per group g, with
// P = Ho * Wo output positions and taps (ci, kh, kw) flattened as kk:
//   forward          y[b, g]  (Cout_g, P)         = W[g] (Cout_g, Cin_g*kH*kW) @ im2col(x[b, g])
//   backward-input   dx[b, g] (Cin_g, H*W)        = W[g]^T over (co, kh, kw) @ "col2im"(dy[b, g])
//   backward-weight  dW[g]    (Cout_g, Cin_g*kH*kW) = dy[:, g] (Cout_g, B*P) @ im2col(x[:, g])^T
// The im2col matrices are never stored: their readers compute each element.
// backward-input gathers (no atomics), so every result is deterministic.
// New runtime names: none beyond gpu.h's.
#include "kernels/cuda/portable_conv.h"
#include "kernels/cuda/portable_tile.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu::portable {
namespace {


// Input position of output position o through tap t, or -1 in the padding.
__device__ inline int64_t input_pos(int64_t o, int64_t t, int64_t stride, int64_t pad,
                                    int64_t dil, int64_t in) {
  const int64_t i = o * stride - pad + t * dil;
  return i >= 0 && i < in ? i : -1;
}

// Output position that reads input position i through tap t, or -1 if none.
__device__ inline int64_t output_pos(int64_t i, int64_t t, int64_t stride, int64_t pad,
                                     int64_t dil, int64_t out) {
  const int64_t shifted = i + pad - t * dil;
  if (shifted < 0 || shifted % stride != 0) return -1;
  const int64_t o = shifted / stride;
  return o < out ? o : -1;
}

// A row-major matrix with a fixed row length (one group's weights etc.).
template <class T> struct DenseView {
  const T* p;
  int64_t ld;
  __device__ compute_t<T> operator()(int64_t r, int64_t c) const {
    return convert<compute_t<T>>(p[r * ld + c]);
  }
};

// ---- forward: batch = b * groups + g ------------------------------------------

template <class T> struct ForwardWeight {  // (Cout_g, Cin_g*kH*kW) of group g
  ConvShape s;
  const T* w;
  bool k_contiguous = true;
  __device__ DenseView<T> bind(int64_t batch) const {
    const int64_t g = batch % s.groups, kk = s.Cin / s.groups * s.kH * s.kW;
    return {w + g * (s.Cout / s.groups) * kk, kk};
  }
};

template <class T> struct Im2colView {  // (Cin_g*kH*kW, Ho*Wo) of image b, group g
  ConvShape s;
  const T* x;  // at (b, g * Cin_g)
  __device__ compute_t<T> operator()(int64_t kk, int64_t p) const {
    const int64_t taps = s.kH * s.kW, ci = kk / taps, kh = kk % taps / s.kW, kw = kk % s.kW;
    const int64_t ih = input_pos(p / s.Wo, kh, s.stride[0], s.padding[0], s.dilation[0], s.H);
    const int64_t iw = input_pos(p % s.Wo, kw, s.stride[1], s.padding[1], s.dilation[1], s.W);
    if (ih < 0 || iw < 0) return compute_t<T>(0);
    return convert<compute_t<T>>(x[(ci * s.H + ih) * s.W + iw]);
  }
};

template <class T> struct ForwardInput {
  ConvShape s;
  const T* x;
  bool k_contiguous = false;  // neighbouring output positions read neighbouring inputs
  __device__ Im2colView<T> bind(int64_t batch) const {
    const int64_t b = batch / s.groups, g = batch % s.groups;
    return {s, x + (b * s.Cin + g * (s.Cin / s.groups)) * s.H * s.W};
  }
};

template <class T> struct ChannelRowsView {  // (channels, positions), bias per row
  T* p;
  int64_t ld;
  const T* bias;  // at this group's first channel, or null
  __device__ void store(int64_t r, int64_t c, compute_t<T> v) const {
    if (bias) v += convert<compute_t<T>>(bias[r]);
    p[r * ld + c] = convert<T>(v);
  }
};

template <class T> struct ForwardOutput {
  ConvShape s;
  T* y;
  const T* bias;
  __device__ ChannelRowsView<T> bind(int64_t batch) const {
    const int64_t b = batch / s.groups, g = batch % s.groups, cout_g = s.Cout / s.groups;
    const int64_t P = s.Ho * s.Wo;
    return {y + (b * s.Cout + g * cout_g) * P, P, bias ? bias + g * cout_g : nullptr};
  }
};

// ---- backward-input: batch = b * groups + g -------------------------------------

template <class T> struct TransposedWeightView {  // (Cin_g, Cout_g*kH*kW)
  ConvShape s;
  const T* w;  // at group g's first output channel
  __device__ compute_t<T> operator()(int64_t ci, int64_t kk) const {
    const int64_t taps = s.kH * s.kW, co = kk / taps, t = kk % taps;
    return convert<compute_t<T>>(w[(co * (s.Cin / s.groups) + ci) * taps + t]);
  }
};

template <class T> struct BackwardInputWeight {
  ConvShape s;
  const T* w;
  bool k_contiguous = true;  // taps of one (co, ci) are adjacent
  __device__ TransposedWeightView<T> bind(int64_t batch) const {
    const int64_t g = batch % s.groups;
    return {s, w + g * (s.Cout / s.groups) * (s.Cin / s.groups) * s.kH * s.kW};
  }
};

template <class T> struct Col2imView {  // (Cout_g*kH*kW, H*W): dy gathered per input position
  ConvShape s;
  const T* dy;  // at (b, g * Cout_g)
  __device__ compute_t<T> operator()(int64_t kk, int64_t q) const {
    const int64_t taps = s.kH * s.kW, co = kk / taps, kh = kk % taps / s.kW, kw = kk % s.kW;
    const int64_t oh = output_pos(q / s.W, kh, s.stride[0], s.padding[0], s.dilation[0], s.Ho);
    const int64_t ow = output_pos(q % s.W, kw, s.stride[1], s.padding[1], s.dilation[1], s.Wo);
    if (oh < 0 || ow < 0) return compute_t<T>(0);
    return convert<compute_t<T>>(dy[(co * s.Ho + oh) * s.Wo + ow]);
  }
};

template <class T> struct BackwardInputGrad {
  ConvShape s;
  const T* dy;
  bool k_contiguous = false;
  __device__ Col2imView<T> bind(int64_t batch) const {
    const int64_t b = batch / s.groups, g = batch % s.groups;
    return {s, dy + (b * s.Cout + g * (s.Cout / s.groups)) * s.Ho * s.Wo};
  }
};

template <class T> struct BackwardInputOutput {
  ConvShape s;
  T* dx;
  __device__ ChannelRowsView<T> bind(int64_t batch) const {
    const int64_t b = batch / s.groups, g = batch % s.groups;
    return {dx + (b * s.Cin + g * (s.Cin / s.groups)) * s.H * s.W, s.H * s.W, nullptr};
  }
};

// ---- backward-weight: batch = g, reduction over q = b * P + p -------------------

template <class T> struct GradRowsView {  // (Cout_g, B*P)
  ConvShape s;
  const T* dy;  // at channel g * Cout_g of image 0
  __device__ compute_t<T> operator()(int64_t co, int64_t q) const {
    const int64_t P = s.Ho * s.Wo, b = q / P, p = q % P;
    return convert<compute_t<T>>(dy[(b * s.Cout + co) * P + p]);
  }
};

template <class T> struct BackwardWeightGrad {
  ConvShape s;
  const T* dy;
  bool k_contiguous = true;
  __device__ GradRowsView<T> bind(int64_t g) const {
    return {s, dy + g * (s.Cout / s.groups) * s.Ho * s.Wo};
  }
};

template <class T> struct BatchIm2colView {  // (B*P, Cin_g*kH*kW)
  ConvShape s;
  const T* x;  // at channel g * Cin_g of image 0
  __device__ compute_t<T> operator()(int64_t q, int64_t kk) const {
    const int64_t P = s.Ho * s.Wo, b = q / P;
    const Im2colView<T> image{s, x + b * s.Cin * s.H * s.W};
    return image(kk, q % P);
  }
};

template <class T> struct BackwardWeightInput {
  ConvShape s;
  const T* x;
  bool k_contiguous = true;  // neighbouring output positions read neighbouring inputs
  __device__ BatchIm2colView<T> bind(int64_t g) const {
    return {s, x + g * (s.Cin / s.groups) * s.H * s.W};
  }
};

template <class T> struct BackwardWeightOutput {
  ConvShape s;
  T* dw;
  __device__ ChannelRowsView<T> bind(int64_t g) const {
    const int64_t kk = s.Cin / s.groups * s.kH * s.kW;
    return {dw + g * (s.Cout / s.groups) * kk, kk, nullptr};
  }
};

// dbias[c] = sum over images and positions of dy[b, c]: one block per channel,
// a fixed-order tree in shared memory (independent of the warp size).
constexpr int kBiasThreads = 256;
template <class T> __global__ void __launch_bounds__(kBiasThreads)
    bias_grad_kernel(ConvShape s, const T* dy, T* dbias) {
  using Acc = compute_t<T>;
  __shared__ Acc partial[kBiasThreads];
  const int64_t c = blockIdx.x, P = s.Ho * s.Wo, n = s.B * P;
  Acc sum = Acc(0);
  for (int64_t q = threadIdx.x; q < n; q += kBiasThreads)
    sum += convert<Acc>(dy[(q / P * s.Cout + c) * P + q % P]);
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kBiasThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) dbias[c] = convert<T>(partial[0]);
}

}  // namespace

void launch_portable_conv2d(const ConvShape& s, DTypeCode dtype, const void* x,
                            const void* weight, const void* bias, void* y, cudaStream_t stream) {
  const GemmSize size{s.Cout / s.groups, s.Ho * s.Wo, s.Cin / s.groups * s.kH * s.kW,
                      s.B * s.groups};
  visit_floating_code(dtype, [&]<class T>() {
    launch_tiled_gemm<compute_t<T>>(
        size, ForwardWeight<T>{s, static_cast<const T*>(weight)},
        ForwardInput<T>{s, static_cast<const T*>(x)},
        ForwardOutput<T>{s, static_cast<T*>(y), static_cast<const T*>(bias)}, stream);
  });
}

void launch_portable_conv2d_backward_input(const ConvShape& s, DTypeCode dtype, const void* dy,
                                           const void* weight, void* dx, cudaStream_t stream) {
  const GemmSize size{s.Cin / s.groups, s.H * s.W, s.Cout / s.groups * s.kH * s.kW,
                      s.B * s.groups};
  visit_floating_code(dtype, [&]<class T>() {
    launch_tiled_gemm<compute_t<T>>(
        size, BackwardInputWeight<T>{s, static_cast<const T*>(weight)},
        BackwardInputGrad<T>{s, static_cast<const T*>(dy)},
        BackwardInputOutput<T>{s, static_cast<T*>(dx)}, stream);
  });
}

void launch_portable_conv2d_backward_weight(const ConvShape& s, DTypeCode dtype, const void* dy,
                                            const void* x, void* dweight, void* dbias,
                                            cudaStream_t stream) {
  const GemmSize size{s.Cout / s.groups, s.Cin / s.groups * s.kH * s.kW, s.B * s.Ho * s.Wo,
                      s.groups};
  visit_floating_code(dtype, [&]<class T>() {
    launch_tiled_gemm<compute_t<T>>(
        size, BackwardWeightGrad<T>{s, static_cast<const T*>(dy)},
        BackwardWeightInput<T>{s, static_cast<const T*>(x)},
        BackwardWeightOutput<T>{s, static_cast<T*>(dweight)}, stream);
    if (dbias && s.Cout > 0) {
      bias_grad_kernel<T><<<unsigned(s.Cout), kBiasThreads, 0, stream>>>(
          s, static_cast<const T*>(dy), static_cast<T*>(dbias));
      DLT_GPU_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlt::gpu::portable
