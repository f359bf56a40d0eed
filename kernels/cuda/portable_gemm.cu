// launch_portable_gemm: strided, broadcast-batched GEMM through the tiled
// kernel of portable_tile.cuh. No new runtime names beyond gpu.h's.
#include "kernels/cuda/portable_gemm.h"
#include "kernels/cuda/portable_tile.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu::portable {
namespace {


// Flat batch index -> element offset of one matrix (row-major batch order).
struct BatchIndex {
  int ndim;
  int64_t shape[kMaxDims];
  __device__ int64_t offset(int64_t batch, const int64_t* strides) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      off += (batch % shape[d]) * strides[d];
      batch /= shape[d];
    }
    return off;
  }
};

template <class T> struct MatrixView {
  const T* p;
  int64_t rs, cs;
  __device__ compute_t<T> operator()(int64_t r, int64_t c) const {
    return convert<compute_t<T>>(p[r * rs + c * cs]);
  }
};

// A (M x K) or B (K x N).
template <class T> struct MatrixReader {
  GemmMatrix m;
  BatchIndex batch;
  bool k_contiguous;
  __device__ MatrixView<T> bind(int64_t b) const {
    return {static_cast<const T*>(m.data) + batch.offset(b, m.batch_strides), m.row_stride,
            m.col_stride};
  }
};

template <class T> struct OutputView {
  T* p;
  int64_t rs, cs;
  const T* bias;
  __device__ void store(int64_t r, int64_t c, compute_t<T> v) const {
    if (bias) v += convert<compute_t<T>>(bias[c]);
    p[r * rs + c * cs] = convert<T>(v);
  }
};

template <class T> struct OutputWriter {
  GemmMatrix m;
  BatchIndex batch;
  const T* bias;
  __device__ OutputView<T> bind(int64_t b) const {
    return {static_cast<T*>(m.data) + batch.offset(b, m.batch_strides), m.row_stride,
            m.col_stride, bias};
  }
};

}  // namespace

void launch_portable_gemm(const GemmProblem& p, cudaStream_t stream) {
  BatchIndex batch{p.batch_ndim, {}};
  int64_t batches = 1;
  for (int d = 0; d < p.batch_ndim; ++d) {
    batch.shape[d] = p.batch_shape[d];
    batches *= p.batch_shape[d];
  }
  const GemmSize size{p.m, p.n, p.k, batches};
  visit_code(p.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      const MatrixReader<T> a{p.a, batch, p.a.col_stride == 1};
      const MatrixReader<T> b{p.b, batch, p.b.row_stride == 1};
      const OutputWriter<T> c{p.c, batch, static_cast<const T*>(p.bias)};
      launch_tiled_gemm<compute_t<T>>(size, a, b, c, stream);
    }
  });
}

}  // namespace dlt::gpu::portable
