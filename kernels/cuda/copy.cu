// The elementwise copy kernel: dtype conversion through compute_t (f16/bf16
// via float, as the CPU kernel), any strides on both sides.
//
// CUDA runtime names used here (for the HIP mapping): cudaMemcpyAsync,
// cudaMemcpyDeviceToDevice.
#include "kernels/cuda/copy.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;

// Offsets (in elements) of one index of out in both tensors: the index is
// split into coordinates over out's shape, last dim fastest.
struct StridedPair {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t out_strides[kMaxDims];
  int64_t in_strides[kMaxDims];
};

template <class D, class S>
__global__ void copy_contiguous(D* __restrict__ out, const S* __restrict__ in, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = convert<D>(convert<compute_t<S>>(in[i]));
}

template <class D, class S>
__global__ void copy_strided(D* __restrict__ out, const S* __restrict__ in, StridedPair g, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, o = 0, s = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t c = rest % g.shape[d];
      rest /= g.shape[d];
      o += c * g.out_strides[d];
      s += c * g.in_strides[d];
    }
    out[o] = convert<D>(convert<compute_t<S>>(in[s]));
  }
}

bool contiguous(const TensorArg& t) {
  int64_t expected = 1;
  for (int d = t.ndim - 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

// Drops size-1 dims and merges dims that are contiguous in both tensors, so
// the index split of the strided kernel does as few divisions as it can.
StridedPair collapse(const TensorArg& out, const TensorArg& in) {
  StridedPair g{};
  for (int d = 0; d < out.ndim; ++d) {
    if (out.shape[d] == 1) continue;
    const int k = g.ndim;
    if (k > 0 && g.out_strides[k - 1] == out.strides[d] * out.shape[d] &&
        g.in_strides[k - 1] == in.strides[d] * out.shape[d]) {
      g.shape[k - 1] *= out.shape[d];
      g.out_strides[k - 1] = out.strides[d];
      g.in_strides[k - 1] = in.strides[d];
      continue;
    }
    g.shape[k] = out.shape[d];
    g.out_strides[k] = out.strides[d];
    g.in_strides[k] = in.strides[d];
    g.ndim = k + 1;
  }
  return g;
}

int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return int(b < 65535 * 8 ? b : 65535 * 8);  // grid-stride loops cover the rest
}

}  // namespace

void launch_copy(TensorArg out, TensorArg in, cudaStream_t stream) {
  const int64_t n = out.numel;
  if (n == 0) return;
  const bool flat = contiguous(out) && contiguous(in) && in.numel == n;
  if (flat && out.dtype == in.dtype) {
    int64_t bytes = n;
    visit_code(out.dtype, [&]<class T>() { bytes *= int64_t(sizeof(T)); });
    DLT_GPU_CHECK(cudaMemcpyAsync(out.data, in.data, size_t(bytes), cudaMemcpyDeviceToDevice, stream));
    return;
  }
  const StridedPair g = collapse(out, in);
  visit_code(out.dtype, [&]<class D>() {
    visit_code(in.dtype, [&]<class S>() {
      if (flat)
        copy_contiguous<D, S><<<blocks_for(n), kThreads, 0, stream>>>(
            static_cast<D*>(out.data), static_cast<const S*>(in.data), n);
      else
        copy_strided<D, S><<<blocks_for(n), kThreads, 0, stream>>>(
            static_cast<D*>(out.data), static_cast<const S*>(in.data), g, n);
      DLT_GPU_CHECK_LAUNCH();
    });
  });
}

}  // namespace dlt::gpu
