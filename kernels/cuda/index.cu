// Indexing kernels (see index.h). Kernels that only move elements work on
// unsigned words of the element's size, so one instantiation serves every
// dtype of that size; accumulating kernels atomicAdd in the accumulator type.
// Runtime names used: cudaStream_t, cudaGetLastError; device atomicAdd
// (float, double, int, unsigned long long) and atomicMin (unsigned long long).
#include "kernels/cuda/index.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/words.cuh"

namespace dlt::gpu {
namespace {

#define DLT_FOR_EACH_ELEMENT(i, n)                                          \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

// Index tensors are int32 or int64 (the op layer checks).
template <class F> void visit_index(DTypeCode code, F&& f) {
  if (code == DTypeCode::i32) f.template operator()<int32_t>();
  else f.template operator()<int64_t>();
}

template <class T> struct acc_type { using type = T; };
template <> struct acc_type<__half> { using type = float; };
template <> struct acc_type<__nv_bfloat16> { using type = float; };
template <> struct acc_type<uint8_t> { using type = int64_t; };
template <> struct acc_type<bool> { using type = int64_t; };
template <class T> using acc_t = typename acc_type<T>::type;

__device__ inline bool in_range(int64_t v, int64_t size) { return uint64_t(v) < uint64_t(size); }

__device__ inline void note_bad(int64_t* bad_position, int64_t position) {
  atomicMin(reinterpret_cast<unsigned long long*>(bad_position),
            static_cast<unsigned long long>(position));
}

__device__ inline void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ inline void atomic_add(int32_t* p, int32_t v) {
  atomicAdd(reinterpret_cast<int*>(p), int(v));
}
__device__ inline void atomic_add(int64_t* p, int64_t v) {  // two's complement wraps as int64 adds
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

struct Identity {
  template <class C> __device__ C operator()(C x) const { return x; }
};
template <class C> struct Zero {
  __device__ C operator()() const { return C(0); }
};

// out (outer, K, inner)[o, k, j] = x (outer, D, inner)[o, index[k], j].
template <class W, class I>
__global__ void index_select_kernel(W* out, const W* x, const I* index, int64_t outer, int64_t D,
                                    int64_t K, int64_t inner, int64_t* bad) {
  DLT_FOR_EACH_ELEMENT(i, outer * K * inner) {
    const int64_t j = i % inner, r = i / inner, k = r % K, o = r / K;
    const int64_t v = int64_t(index[k]);
    if (in_range(v, D)) {
      out[i] = x[(o * D + v) * inner + j];
    } else {
      out[i] = W(0);
      note_bad(bad, k);
    }
  }
}

// acc (outer, D, inner)[o, index[k], j] += src (outer, K, inner)[o, k, j].
template <class A, class T, class I>
__global__ void index_add_kernel(A* acc, const T* src, const I* index, int64_t outer, int64_t D,
                                 int64_t K, int64_t inner, int64_t skip, int64_t* bad) {
  DLT_FOR_EACH_ELEMENT(i, outer * K * inner) {
    const int64_t j = i % inner, r = i / inner, k = r % K, o = r / K;
    const int64_t v = int64_t(index[k]);
    if (!in_range(v, D)) {
      note_bad(bad, k);
      continue;
    }
    if (v == skip) continue;
    atomic_add(acc + (o * D + v) * inner + j, convert<A>(src[i]));
  }
}

// Coordinates of linear element i of `shape` (last dim fastest).
struct Coords {
  int64_t c[kMaxDims];
};
__device__ inline Coords coords_of(int64_t i, const TensorArg& shape) {
  Coords r;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    r.c[d] = i % shape.shape[d];
    i /= shape.shape[d];
  }
  return r;
}

// out[i] = x[coords(i) with coordinate dim = index[i]]; out and index contiguous.
template <class W, class I>
__global__ void gather_kernel(W* out, TensorArg x, const I* index, TensorArg index_arg,
                              int64_t dim, int64_t* bad) {
  const int64_t size = x.shape[dim];
  DLT_FOR_EACH_ELEMENT(i, index_arg.numel) {
    const Coords c = coords_of(i, index_arg);
    int64_t v = int64_t(index[i]);
    if (!in_range(v, size)) {  // read element 0 and report, as the CPU
      note_bad(bad, i);
      v = 0;
    }
    int64_t off = 0;
    for (int d = 0; d < index_arg.ndim; ++d) off += (d == dim ? v : c.c[d]) * x.strides[d];
    out[i] = static_cast<const W*>(x.data)[off];
  }
}

// acc (contiguous, x's shape)[coords(i) with dim = index[i]] += src[coords(i)].
template <class A, class T, class I>
__global__ void scatter_add_kernel(A* acc, TensorArg acc_arg, TensorArg src, const I* index,
                                   TensorArg index_arg, int64_t dim, int64_t* bad) {
  const int64_t size = acc_arg.shape[dim];
  DLT_FOR_EACH_ELEMENT(i, index_arg.numel) {
    const int64_t v = int64_t(index[i]);
    if (!in_range(v, size)) {
      note_bad(bad, i);
      continue;
    }
    const Coords c = coords_of(i, index_arg);
    int64_t src_off = 0, acc_off = 0;
    for (int d = 0; d < index_arg.ndim; ++d) {
      src_off += c.c[d] * src.strides[d];
      acc_off += (d == dim ? v : c.c[d]) * acc_arg.strides[d];
    }
    atomic_add(acc + acc_off, convert<A>(static_cast<const T*>(src.data)[src_off]));
  }
}

template <class I>
__global__ void one_hot_kernel(int64_t* out, const I* index, int64_t P, int64_t N, int64_t* bad) {
  DLT_FOR_EACH_ELEMENT(i, P * N) out[i] = int64_t(index[i / N]) == i % N ? 1 : 0;
  DLT_FOR_EACH_ELEMENT(p, P) if (!in_range(int64_t(index[p]), N)) note_bad(bad, p);
}

#undef DLT_FOR_EACH_ELEMENT

// Sets up the accumulator for out (the dtype of out and x is T): acc itself
// when it has data (x converted, or zeros), else out (x copied, or zeros).
// Returns the buffer to add into.
template <class T>
acc_t<T>* start_accumulator(TensorArg out, TensorArg acc, TensorArg x, bool zero_init,
                            cudaStream_t s) {
  using A = acc_t<T>;
  if constexpr (std::is_same_v<A, T>) {
    if (zero_init) gpu_map<T>(out, {}, Zero<compute_t<T>>{}, s);
    else gpu_map<T, T>(out, {x}, Identity{}, s);
    return static_cast<A*>(out.data);
  } else {
    if (zero_init) gpu_map<A>(acc, {}, Zero<A>{}, s);
    else gpu_map<A, T>(acc, {x}, Identity{}, s);
    return static_cast<A*>(acc.data);
  }
}

// out = acc converted, when they differ.
template <class T> void finish_accumulator(TensorArg out, TensorArg acc, cudaStream_t s) {
  if constexpr (!std::is_same_v<acc_t<T>, T>) gpu_map<T, acc_t<T>>(out, {acc}, Identity{}, s);
}

}  // namespace

DTypeCode acc_code(DTypeCode dtype) {
  switch (dtype) {
    case DTypeCode::f16:
    case DTypeCode::bf16: return DTypeCode::f32;
    case DTypeCode::u8:
    case DTypeCode::boolean: return DTypeCode::i64;
    default: return dtype;
  }
}

void launch_index_select(TensorArg out, TensorArg x, TensorArg index, int64_t outer, int64_t D,
                         int64_t inner, int64_t* bad, cudaStream_t s) {
  const int64_t K = index.numel;
  if (outer * K * inner == 0) return;
  visit_word(x.dtype, [&]<class W>() {
    visit_index(index.dtype, [&]<class I>() {
      index_select_kernel<W, I><<<blocks_for(outer * K * inner), kThreads, 0, s>>>(
          static_cast<W*>(out.data), static_cast<const W*>(x.data),
          static_cast<const I*>(index.data), outer, D, K, inner, bad);
      DLT_GPU_CHECK_LAUNCH();
    });
  });
}

void launch_index_add(TensorArg out, TensorArg acc, TensorArg x, TensorArg index, TensorArg src,
                      int64_t outer, int64_t D, int64_t inner, int64_t skip, bool zero_init,
                      int64_t* bad, cudaStream_t s) {
  if (out.numel == 0) return;
  const int64_t K = index.numel;
  visit_code(out.dtype, [&]<class T>() {
    using A = acc_t<T>;
    A* sum = start_accumulator<T>(out, acc, x, zero_init, s);
    if (outer * K * inner > 0) {
      visit_index(index.dtype, [&]<class I>() {
        index_add_kernel<A, T, I><<<blocks_for(outer * K * inner), kThreads, 0, s>>>(
            sum, static_cast<const T*>(src.data), static_cast<const I*>(index.data), outer, D, K,
            inner, skip, bad);
        DLT_GPU_CHECK_LAUNCH();
      });
    }
    finish_accumulator<T>(out, acc, s);
  });
}

void launch_gather(TensorArg out, TensorArg x, TensorArg index, int64_t dim, int64_t* bad,
                   cudaStream_t s) {
  if (index.numel == 0) return;
  visit_word(x.dtype, [&]<class W>() {
    visit_index(index.dtype, [&]<class I>() {
      gather_kernel<W, I><<<blocks_for(index.numel), kThreads, 0, s>>>(
          static_cast<W*>(out.data), x, static_cast<const I*>(index.data), index, dim, bad);
      DLT_GPU_CHECK_LAUNCH();
    });
  });
}

void launch_scatter_add(TensorArg out, TensorArg acc, TensorArg x, TensorArg index, TensorArg src,
                        int64_t dim, int64_t* bad, cudaStream_t s) {
  if (out.numel == 0) return;
  visit_code(out.dtype, [&]<class T>() {
    using A = acc_t<T>;
    A* sum = start_accumulator<T>(out, acc, x, false, s);
    const TensorArg& sum_arg = std::is_same_v<A, T> ? out : acc;
    if (index.numel > 0) {
      visit_index(index.dtype, [&]<class I>() {
        scatter_add_kernel<A, T, I><<<blocks_for(index.numel), kThreads, 0, s>>>(
            sum, sum_arg, src, static_cast<const I*>(index.data), index, dim, bad);
        DLT_GPU_CHECK_LAUNCH();
      });
    }
    finish_accumulator<T>(out, acc, s);
  });
}

void launch_one_hot(TensorArg out, TensorArg indices, int64_t num_classes, int64_t* bad,
                    cudaStream_t s) {
  const int64_t P = indices.numel;
  if (P == 0) return;
  visit_index(indices.dtype, [&]<class I>() {
    one_hot_kernel<I><<<blocks_for(P * (num_classes > 0 ? num_classes : 1)), kThreads, 0, s>>>(
        static_cast<int64_t*>(out.data), static_cast<const I*>(indices.data), P, num_classes, bad);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
