// GPU reductions over any set of dims (sum, mean, var's passes, amax/amin,
// logsumexp's passes, max/min with indices, argmax/argmin).
//
// Each output reduces `count` elements (reduce_geometry.h). Shapes of work:
//   rows     the innermost reduced dim is contiguous: a warp (short rows) or a
//            block (long rows) per output, lanes striding along the row;
//   columns  neighbouring outputs are neighbours in memory: a 32-wide tile of
//            outputs per block, its threadIdx.y rows splitting the reduced
//            elements and combining through shared memory;
//   short    fewer than kShortReduction elements per output: a thread each.
// Few outputs over many elements are cut into slices (reduce_splits): each
// slice writes an accumulator to the workspace and a finishing kernel
// combines the slices in slice order, so results do not depend on timing.
//
// Runtime names used: cudaStream_t, cudaGetLastError, __shfl_xor_sync (via
// block_reduce.cuh), __syncthreads.
#include "kernels/cuda/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cuda/acc_math.cuh"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kColumnTile = 32;  // outputs per column block (one warp wide)
constexpr int kColumnRows = 16;  // threadIdx.y rows splitting the reduced elements
constexpr int kRowBlock = 256;
// Outputs of fewer elements than this get a thread each (a warp would idle).
constexpr int64_t kShortReduction = 16;

template <class T> constexpr bool is_float_like = std::is_floating_point_v<compute_t<T>>;
template <class T> using sum_acc_t = std::conditional_t<is_float_like<T>, compute_t<T>, int64_t>;
template <class T> using sum_out_t = std::conditional_t<is_float_like<T>, T, int64_t>;

template <class C> __device__ inline C lowest_value() {
  if constexpr (std::is_floating_point_v<C>) return -std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::lowest();
}
template <class C> __device__ inline C highest_value() {
  if constexpr (std::is_floating_point_v<C>) return std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::max();
}
template <class C> __device__ inline bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return v != v;
  else return false;
}

// ---- policies: identity, load(value, index, param), combine, store ------------------
// `P` is the accumulation type of the per-output param (deviation, lse_sum).

template <class T> struct SumPolicy {
  using Acc = sum_acc_t<T>;
  using Out = sum_out_t<T>;
  __device__ Acc identity() const { return Acc(0); }
  __device__ Acc load(T v, int64_t, compute_t<T>) const { return convert<Acc>(v); }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ void store(Acc a, int64_t o, compute_t<T>, void* out, int64_t*) const {
    static_cast<Out*>(out)[o] = convert<Out>(a);
  }
};

// mean (mean_acc: written in the accumulation type), var's deviation pass and
// logsumexp's sum pass all sum floating values.
enum class FloatSum { mean, mean_acc, deviation, lse_sum };
template <class T, FloatSum kMode> struct FloatSumPolicy {
  using Acc = compute_t<T>;
  double divisor = 1;
  __device__ Acc identity() const { return Acc(0); }
  __device__ Acc load(T v, int64_t, Acc param) const {
    const Acc x = convert<Acc>(v);
    if constexpr (kMode == FloatSum::deviation) return (x - param) * (x - param);
    else if constexpr (kMode == FloatSum::lse_sum) return acc_exp(x - param);
    else return x;
  }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ void store(Acc a, int64_t o, Acc param, void* out, int64_t*) const {
    if constexpr (kMode == FloatSum::lse_sum)
      static_cast<T*>(out)[o] = convert<T>(acc_log(a) + param);
    else if constexpr (kMode == FloatSum::mean_acc)
      static_cast<Acc*>(out)[o] = a / Acc(divisor);
    else
      static_cast<T*>(out)[o] = convert<T>(a / Acc(divisor));
  }
};

// amax / amin: nan wins, as torch. kLseMax writes the accumulation type with
// an infinite max replaced by 0 (logsumexp's shift).
template <class T, bool kMax, bool kLseMax = false> struct ExtremumPolicy {
  using Acc = compute_t<T>;
  __device__ Acc identity() const { return kMax ? lowest_value<Acc>() : highest_value<Acc>(); }
  __device__ Acc load(T v, int64_t, Acc) const { return convert<Acc>(v); }
  __device__ Acc combine(Acc a, Acc b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return (kMax ? b > a : b < a) ? b : a;
  }
  __device__ void store(Acc a, int64_t o, Acc, void* out, int64_t*) const {
    if constexpr (kLseMax) {
      if constexpr (std::is_floating_point_v<Acc>) a = isinf(a) ? Acc(0) : a;
      static_cast<Acc*>(out)[o] = a;
    } else {
      static_cast<T*>(out)[o] = convert<T>(a);
    }
  }
};

// A value and where it was found; trivially constructible (shared memory).
template <class C> struct ValueIndex {
  C value;
  int64_t index;
};
template <class C> __device__ inline ValueIndex<C> shfl_xor(ValueIndex<C> v, int mask) {
  return {gpu::shfl_xor(v.value, mask), gpu::shfl_xor(v.index, mask)};
}

// The first extreme wins ties, the first nan wins over everything: the
// order (nan first, then more extreme, then lower index) is total, so the
// combine is commutative and the result independent of the walk.
template <class T, bool kMax> struct ArgExtremumPolicy {
  using C = compute_t<T>;
  using Acc = ValueIndex<C>;
  __device__ Acc identity() const {
    return {kMax ? lowest_value<C>() : highest_value<C>(), std::numeric_limits<int64_t>::max()};
  }
  __device__ Acc load(T v, int64_t k, C) const { return {convert<C>(v), k}; }
  __device__ Acc combine(Acc a, Acc b) const {
    const bool an = is_nan(a.value), bn = is_nan(b.value);
    bool take_b;
    if (an || bn) take_b = bn && (!an || b.index < a.index);
    else if (a.value == b.value) take_b = b.index < a.index;
    else take_b = kMax ? b.value > a.value : b.value < a.value;
    return take_b ? b : a;
  }
  __device__ void store(Acc a, int64_t o, C, void* out, int64_t* indices) const {
    if (out) static_cast<T*>(out)[o] = convert<T>(a.value);
    indices[o] = a.index;
  }
};

// ---- walking the geometry -------------------------------------------------------

// Element offset of linear index i over dims (row-major).
__device__ inline int64_t offset_of(int64_t i, const DimList& dims) {
  if (dims.ndim == 1) return i * dims.strides[0];
  int64_t off = 0;
  for (int d = dims.ndim - 1; d >= 0; --d) {
    const int64_t n = dims.shape[d];
    off += (i % n) * dims.strides[d];
    i /= n;
  }
  return off;
}

// Reduces elements [begin, end) of output o, this thread taking every step-th.
template <class Policy, class T>
__device__ inline typename Policy::Acc reduce_range(const Policy& p, const T* x,
                                                    const ReduceGeometry& g, int64_t base,
                                                    int64_t begin, int64_t end, int64_t step,
                                                    compute_t<T> param) {
  typename Policy::Acc acc = p.identity();
  for (int64_t k = begin; k < end; k += step)
    acc = p.combine(acc, p.load(x[base + offset_of(k, g.reduced)], k, param));
  return acc;
}

struct Slices {
  int64_t count, per_slice;
  __device__ int64_t begin(int64_t s) const { return s * per_slice; }
  __device__ int64_t end(int64_t s, int64_t total) const {
    const int64_t e = (s + 1) * per_slice;
    return e < total ? e : total;
  }
};

// Either stores the finished output (one slice) or the slice's accumulator.
template <class Policy, class P>
__device__ inline void emit(const Policy& p, typename Policy::Acc acc, int64_t o, int64_t s,
                            const Slices& slices, int64_t outputs, P param, void* out,
                            int64_t* indices, void* workspace) {
  if (slices.count == 1) p.store(acc, o, param, out, indices);
  else static_cast<typename Policy::Acc*>(workspace)[s * outputs + o] = acc;
}

template <class T> __device__ inline compute_t<T> param_of(const void* param, int64_t o) {
  return param ? static_cast<const compute_t<T>*>(param)[o] : compute_t<T>(0);
}

// One warp (kWarp) or one block per (output, slice).
template <class Policy, class T, bool kWarp>
__global__ void reduce_rows_kernel(Policy p, const T* x, ReduceGeometry g, Slices slices,
                                   const void* param, void* out, int64_t* indices,
                                   void* workspace) {
  const int64_t groups_per_block = kWarp ? blockDim.x / kWarpSize : 1;
  const int64_t item = int64_t(blockIdx.x) * groups_per_block +
                       (kWarp ? threadIdx.x / kWarpSize : 0);
  const int lane = kWarp ? int(threadIdx.x) % kWarpSize : int(threadIdx.x);
  const int width = kWarp ? kWarpSize : int(blockDim.x);
  const bool active = item < g.outputs * slices.count;  // whole warps / blocks agree
  if (kWarp && !active) return;
  const int64_t o = active ? item / slices.count : 0, s = active ? item % slices.count : 0;
  const compute_t<T> prm = param_of<T>(param, o);
  const typename Policy::Acc acc =
      reduce_range(p, x, g, offset_of(o, g.kept), slices.begin(s) + lane,
                   slices.end(s, g.count), width, prm);
  const auto combine = [&](typename Policy::Acc a, typename Policy::Acc b) {
    return p.combine(a, b);
  };
  const typename Policy::Acc total = group_reduce<kWarp>(acc, combine, p.identity());
  if (lane == 0 && active) emit(p, total, o, s, slices, g.outputs, prm, out, indices, workspace);
}

// A tile of kTile neighbouring outputs per block.x, one slice per block.y;
// kRows threads (threadIdx.y) share each output's elements.
template <class Policy, class T, int kTile, int kRows>
__global__ void reduce_columns_kernel(Policy p, const T* x, ReduceGeometry g, Slices slices,
                                      const void* param, void* out, int64_t* indices,
                                      void* workspace) {
  using Acc = typename Policy::Acc;
  const int64_t o = int64_t(blockIdx.x) * kTile + threadIdx.x;
  const int64_t s = blockIdx.y;
  const bool active = o < g.outputs;
  const compute_t<T> prm = active ? param_of<T>(param, o) : compute_t<T>(0);
  Acc acc = p.identity();
  if (active)
    acc = reduce_range(p, x, g, offset_of(o, g.kept), slices.begin(s) + threadIdx.y,
                       slices.end(s, g.count), kRows, prm);
  if constexpr (kRows > 1) {
    __shared__ Acc partial[kRows][kTile];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y != 0) return;
    for (int r = 1; r < kRows; ++r) acc = p.combine(acc, partial[r][threadIdx.x]);
  }
  if (!active) return;
  emit(p, acc, o, s, slices, g.outputs, prm, out, indices, workspace);
}

// Combines the slices of each output in slice order and stores it.
template <class Policy, class T>
__global__ void reduce_finish_kernel(Policy p, int64_t outputs, int64_t slices,
                                     const void* param, void* out, int64_t* indices,
                                     const void* workspace) {
  const int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= outputs) return;
  const auto* acc = static_cast<const typename Policy::Acc*>(workspace);
  typename Policy::Acc total = acc[o];
  for (int64_t s = 1; s < slices; ++s) total = p.combine(total, acc[s * outputs + o]);
  p.store(total, o, param_of<T>(param, o), out, indices);
}

template <class Policy, class T>
void run(const Policy& p, const ReduceCall& c, cudaStream_t stream) {
  const ReduceGeometry& g = c.geometry;
  if (g.outputs == 0) return;
  const T* x = static_cast<const T*>(c.in.data);
  const int64_t splits = reduce_splits(g);
  const Slices slices{splits, ceil_div(g.count, splits)};
  if (g.count < kShortReduction) {  // never sliced
    reduce_columns_kernel<Policy, T, kRowBlock, 1>
        <<<unsigned(ceil_div(g.outputs, kRowBlock)), kRowBlock, 0, stream>>>(
            p, x, g, slices, c.param, c.out, c.indices, c.workspace);
  } else if (g.reads_columns()) {
    const dim3 block(kColumnTile, kColumnRows);
    const dim3 grid(unsigned(ceil_div(g.outputs, kColumnTile)), unsigned(splits));
    reduce_columns_kernel<Policy, T, kColumnTile, kColumnRows><<<grid, block, 0, stream>>>(
        p, x, g, slices, c.param, c.out, c.indices, c.workspace);
  } else if (slices.per_slice <= 4 * kWarpSize * 8) {
    const int64_t items = g.outputs * splits;
    const int64_t per_block = kRowBlock / kWarpSize;
    reduce_rows_kernel<Policy, T, true><<<unsigned(ceil_div(items, per_block)), kRowBlock, 0,
                                          stream>>>(p, x, g, slices, c.param, c.out, c.indices,
                                                    c.workspace);
  } else {
    reduce_rows_kernel<Policy, T, false><<<unsigned(g.outputs * splits), kRowBlock, 0, stream>>>(
        p, x, g, slices, c.param, c.out, c.indices, c.workspace);
  }
  DLT_GPU_CHECK_LAUNCH();
  if (splits == 1) return;
  reduce_finish_kernel<Policy, T><<<unsigned(ceil_div(g.outputs, kRowBlock)), kRowBlock, 0,
                                    stream>>>(p, g.outputs, splits, c.param, c.out, c.indices,
                                              c.workspace);
  DLT_GPU_CHECK_LAUNCH();
}

template <class T> void run_floating(const ReduceCall& c, cudaStream_t s) {
  switch (c.kind) {
    case ReduceKind::mean: return run<FloatSumPolicy<T, FloatSum::mean>, T>({c.scalar}, c, s);
    case ReduceKind::mean_acc:
      return run<FloatSumPolicy<T, FloatSum::mean_acc>, T>({c.scalar}, c, s);
    case ReduceKind::deviation:
      return run<FloatSumPolicy<T, FloatSum::deviation>, T>({c.scalar}, c, s);
    case ReduceKind::lse_max: return run<ExtremumPolicy<T, true, true>, T>({}, c, s);
    case ReduceKind::lse_sum: return run<FloatSumPolicy<T, FloatSum::lse_sum>, T>({1}, c, s);
    default: return;
  }
}

}  // namespace

void launch_reduce(const ReduceCall& c, cudaStream_t stream) {
  visit_code(c.in.dtype, [&]<class T>() {
    switch (c.kind) {
      case ReduceKind::sum: return run<SumPolicy<T>, T>({}, c, stream);
      case ReduceKind::amax: return run<ExtremumPolicy<T, true>, T>({}, c, stream);
      case ReduceKind::amin: return run<ExtremumPolicy<T, false>, T>({}, c, stream);
      case ReduceKind::argmax: return run<ArgExtremumPolicy<T, true>, T>({}, c, stream);
      case ReduceKind::argmin: return run<ArgExtremumPolicy<T, false>, T>({}, c, stream);
      default:
        if constexpr (is_float_like<T>) run_floating<T>(c, stream);
        return;
    }
  });
}

}  // namespace dlt::gpu
