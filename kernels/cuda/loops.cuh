// The elementwise engine of the GPU backend, the twin of kernels/cpu/loops.h.
//
//   gpu_map<Out, In...>(out, {in...}, op, stream)
//
// computes out[i] = Out(op(in[i]...)) for every element of `out`, with the
// inputs broadcast to out's shape (size-1 or missing leading dims read with
// stride 0). Out and In are storage types (float, __half, int64_t, bool, ...);
// op is a functor whose __device__ operator() receives compute_t<In> values
// (float for f16/bf16) and returns something convertible to compute_t<Out>.
// Any strides are allowed for every operand; out may alias an input with the
// same geometry (in-place ops).
//
// On the host the geometry is coalesced as on the CPU (size-1 dims dropped,
// dims merged where every operand is linear across them). Then one of:
//   - all operands contiguous with 16-byte aligned data: each thread moves
//     16-byte vectors (kVecBytes / the widest operand's size elements);
//   - strided, with offsets that fit in 32 bits: index math in uint32_t;
//   - otherwise the same kernel with 64-bit index math.
// Grids are capped at kMaxBlocks; kernels loop over the rest (grid-stride).
//
//   gpu_generate<Out>(out, gen, stream): out[i] = gen(i) for a contiguous
//   output, i the linear index (int64_t); for random numbers and ranges.
//
// Runtime names used: cudaStream_t, cudaGetLastError (via DLT_GPU_CHECK_LAUNCH).
#pragma once

#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {

inline constexpr int kThreads = 256;         // threads per block of every elementwise kernel
inline constexpr int64_t kMaxBlocks = 65535;  // grid cap; kernels loop beyond it
inline constexpr int kVecBytes = 16;

// Operand geometry over the output's (coalesced) shape; operand 0 is the output.
template <int N> struct Geometry {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};  // in elements of each operand, 0 = broadcast
  void* data[N] = {};
};

// in's strides seen over out's shape: dims aligned at the right, size-1 and
// missing dims broadcast (stride 0). The op layer has checked the shapes.
inline void broadcast_strides(const TensorArg& in, const TensorArg& out, int64_t* strides) {
  const int lead = out.ndim - in.ndim;
  for (int d = 0; d < out.ndim; ++d) {
    const int k = d - lead;
    strides[d] = (k < 0 || in.shape[k] == 1) ? 0 : in.strides[k];
  }
}

// Builds the coalesced geometry, as make_geometry in kernels/cpu/loops.h.
template <int N>
Geometry<N> make_geometry(const TensorArg& out, const std::array<TensorArg, N - 1>& in) {
  int64_t strides[N][kMaxDims];
  for (int d = 0; d < out.ndim; ++d) strides[0][d] = out.strides[d];
  for (int k = 1; k < N; ++k) broadcast_strides(in[k - 1], out, strides[k]);
  Geometry<N> g;
  g.data[0] = out.data;
  for (int k = 1; k < N; ++k) g.data[k] = in[k - 1].data;
  // Drop size-1 dims, then merge dim d into the previous one when every operand allows it.
  for (int d = 0; d < out.ndim; ++d) {
    const int64_t size = out.shape[d];
    if (size == 1) continue;
    bool can_merge = g.ndim > 0;
    for (int k = 0; k < N && can_merge; ++k)
      can_merge = g.strides[k][g.ndim - 1] == strides[k][d] * size;
    if (can_merge) {
      g.shape[g.ndim - 1] *= size;
      for (int k = 0; k < N; ++k) g.strides[k][g.ndim - 1] = strides[k][d];
    } else {
      g.shape[g.ndim] = size;
      for (int k = 0; k < N; ++k) g.strides[k][g.ndim] = strides[k][d];
      ++g.ndim;
    }
  }
  if (g.ndim == 0) {  // a single element
    g.ndim = 1;
    g.shape[0] = 1;
    for (int k = 0; k < N; ++k) g.strides[k][0] = 0;
  }
  return g;
}

// Whether the largest element offset of every operand, and the element
// count, fit in int32: then index math runs in 32 bits.
template <int N> bool fits_32bit(const Geometry<N>& g, int64_t numel) {
  constexpr int64_t kMax = INT32_MAX;
  if (numel > kMax) return false;
  for (int k = 0; k < N; ++k) {
    int64_t reach = 0;
    for (int d = 0; d < g.ndim; ++d) {
      const int64_t s = g.strides[k][d] < 0 ? -g.strides[k][d] : g.strides[k][d];
      reach += (g.shape[d] - 1) * s;
    }
    if (reach > kMax) return false;
  }
  return true;
}

template <int N> bool all_contiguous(const Geometry<N>& g) {
  if (g.ndim != 1) return false;
  for (int k = 0; k < N; ++k)
    if (g.strides[k][0] != 1) return false;
  return true;
}

inline int64_t blocks_for(int64_t work) {
  const int64_t b = (work + kThreads - 1) / kThreads;
  return b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b);
}

namespace detail {

template <class T> __device__ inline compute_t<T> load(const void* base, int64_t off) {
  return convert<compute_t<T>>(static_cast<const T*>(base)[off]);
}

template <class T, int V> struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// The widest operand type, which sets the elements per 16-byte vector.
template <class... T> struct Widest;
template <class T> struct Widest<T> { static constexpr size_t value = sizeof(T); };
template <class T, class... R> struct Widest<T, R...> {
  static constexpr size_t value = sizeof(T) > Widest<R...>::value ? sizeof(T) : Widest<R...>::value;
};

// The operand types of a map: __global__ templates take one pack at most,
// so kernels take Sig<Out, In...> and device bodies unpack it.
template <class Out, class... In> struct Sig {};

template <int N> struct Pointers {
  void* data[N];
};

// Contiguous, aligned operands: V elements per vector, a scalar tail.
template <int V, class Op, class Out, class... In, size_t... I>
__device__ void map_vec_body(Sig<Out, In...>, const Pointers<sizeof...(In) + 1>& p, int64_t n,
                             const Op& op, std::index_sequence<I...>) {
  Out* out = static_cast<Out*>(p.data[0]);
  const auto in = std::make_tuple(static_cast<const In*>(p.data[I + 1])...);
  const int64_t nvec = n / V;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t q = first; q < nvec; q += step) {
    const auto loaded = std::make_tuple(reinterpret_cast<const Vec<In, V>*>(std::get<I>(in))[q]...);
    Vec<Out, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j)
      r.v[j] = convert<Out>(op(convert<compute_t<In>>(std::get<I>(loaded).v[j])...));
    reinterpret_cast<Vec<Out, V>*>(out)[q] = r;
  }
  for (int64_t i = nvec * V + first; i < n; i += step)
    out[i] = convert<Out>(op(convert<compute_t<In>>(std::get<I>(in)[i])...));
}

template <int V, class S, class Op, int N>
__global__ void map_vec_kernel(Pointers<N> p, int64_t n, Op op) {
  map_vec_body<V>(S{}, p, n, op, std::make_index_sequence<N - 1>{});
}

// Any strides. Index is uint32_t when fits_32bit and no stride is negative, else int64_t.
template <class Index, int N, class Op, class Out, class... In, size_t... I>
__device__ void map_strided_body(Sig<Out, In...>, const Geometry<N>& g, int64_t n, const Op& op,
                                 std::index_sequence<I...>) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    Index rem = Index(i);
    Index off[N] = {};
    for (int d = g.ndim - 1; d >= 0; --d) {
      const Index size = Index(g.shape[d]);
      const Index coord = rem % size;
      rem /= size;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += coord * Index(g.strides[k][d]);
    }
    static_cast<Out*>(g.data[0])[int64_t(off[0])] =
        convert<Out>(op(load<In>(g.data[I + 1], int64_t(off[I + 1]))...));
  }
}

template <class Index, class S, class Op, int N>
__global__ void map_strided_kernel(Geometry<N> g, int64_t n, Op op) {
  map_strided_body<Index, N>(S{}, g, n, op, std::make_index_sequence<N - 1>{});
}

template <int N> bool has_negative_stride(const Geometry<N>& g) {
  for (int k = 0; k < N; ++k)
    for (int d = 0; d < g.ndim; ++d)
      if (g.strides[k][d] < 0) return true;
  return false;
}

template <class Out, class... In, class Op, size_t... I>
void map_impl(const TensorArg& out, const std::array<TensorArg, sizeof...(In)>& in, Op op,
              cudaStream_t stream, std::index_sequence<I...>) {
  constexpr int N = int(sizeof...(In)) + 1;
  const int64_t n = out.numel;
  if (n == 0) return;
  const Geometry<N> g = make_geometry<N>(out, in);
  constexpr int V = int(kVecBytes / Widest<Out, In...>::value);
  if (all_contiguous(g)) {
    bool aligned = reinterpret_cast<uintptr_t>(g.data[0]) % (sizeof(Out) * V) == 0;
    ((aligned = aligned && reinterpret_cast<uintptr_t>(g.data[I + 1]) % (sizeof(In) * V) == 0),
     ...);
    if (aligned && V > 1) {
      Pointers<N> p;
      for (int k = 0; k < N; ++k) p.data[k] = g.data[k];
      map_vec_kernel<V, Sig<Out, In...>><<<blocks_for((n + V - 1) / V), kThreads, 0, stream>>>(
          p, n, op);
      DLT_GPU_CHECK_LAUNCH();
      return;
    }
  }
  if (fits_32bit(g, n) && !has_negative_stride(g))
    map_strided_kernel<uint32_t, Sig<Out, In...>><<<blocks_for(n), kThreads, 0, stream>>>(g, n, op);
  else
    map_strided_kernel<int64_t, Sig<Out, In...>><<<blocks_for(n), kThreads, 0, stream>>>(g, n, op);
  DLT_GPU_CHECK_LAUNCH();
}

template <class Out, class Gen> __global__ void generate_kernel(Out* out, int64_t n, Gen gen) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    out[i] = convert<Out>(gen(i));
}

}  // namespace detail

template <class Out, class... In, class Op>
void gpu_map(const TensorArg& out, const std::array<TensorArg, sizeof...(In)>& in, Op op,
             cudaStream_t stream) {
  detail::map_impl<Out, In...>(out, in, op, stream, std::index_sequence_for<In...>{});
}

// out (contiguous) [i] = gen(i); gen's __device__ operator()(int64_t) returns
// a value convertible to compute_t<Out>.
template <class Out, class Gen>
void gpu_generate(const TensorArg& out, Gen gen, cudaStream_t stream) {
  if (out.numel == 0) return;
  detail::generate_kernel<Out><<<blocks_for(out.numel), kThreads, 0, stream>>>(
      static_cast<Out*>(out.data), out.numel, gen);
  DLT_GPU_CHECK_LAUNCH();
}


}  // namespace dlt::gpu
