// The elementwise engine of the CPU backend. An op supplies a scalar
// function; these loops broadcast, coalesce dimensions, split the work over
// threads and keep the innermost loop free of stride arithmetic when the
// operands are contiguous (or broadcast scalars), so the compiler vectorises it.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <tuple>
#include <type_traits>
#include <utility>

#if defined(__F16C__) || defined(__AVX512BF16__)
#include <immintrin.h>
#endif

#include "dlt/core/parallel.h"
#include "dlt/core/tensor.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

inline constexpr int64_t kElementwiseGrain = 32768;

// parallel_for over [0, n) in pieces that start at multiples of kChunkAlign:
// a vectorised loop and its scalar remainder can round differently, and
// aligned pieces keep the remainder at the same elements (the last n %
// lanes of a contiguous range) whatever the thread count.
inline constexpr int64_t kChunkAlign = 64;
template <class F> void parallel_for_aligned(int64_t n, int64_t grain, F&& f) {
  parallel_for(0, (n + kChunkAlign - 1) / kChunkAlign, std::max<int64_t>(1, grain / kChunkAlign),
               [&](int64_t b, int64_t e) { f(b * kChunkAlign, std::min(e * kChunkAlign, n)); });
}

// Operand geometry over the output's shape, dims merged where possible.
// strides[k] are in elements of operand k (0 = broadcast); operand 0 is the output.
template <size_t N> struct Geometry {
  Shape shape;
  std::array<Shape, N> strides;
  std::array<char*, N> base;
  std::array<size_t, N> elem_size;
};

template <size_t N>
Geometry<N> make_geometry(const Tensor& out, const std::array<const Tensor*, N - 1>& in) {
  Geometry<N> g;
  const Shape& shape = out.shape();
  g.shape = shape;
  g.strides[0] = out.strides();
  g.base[0] = static_cast<char*>(out.raw_data());
  g.elem_size[0] = out.element_size();
  for (size_t k = 1; k < N; ++k) {
    g.strides[k] = broadcast_strides(in[k - 1]->shape(), in[k - 1]->strides(), shape);
    g.base[k] = static_cast<char*>(in[k - 1]->raw_data());
    g.elem_size[k] = in[k - 1]->element_size();
  }
  // Drop size-1 dims, then merge dim d into d-1 when every operand allows it.
  Shape merged_shape;
  std::array<Shape, N> merged;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool can_merge = !merged_shape.empty();
    for (size_t k = 0; k < N && can_merge; ++k)
      can_merge = merged[k].back() == g.strides[k][d] * shape[d];
    if (can_merge) {
      merged_shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) merged[k].back() = g.strides[k][d];
    } else {
      merged_shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) merged[k].push_back(g.strides[k][d]);
    }
  }
  if (merged_shape.empty()) {  // a single element
    merged_shape.push_back(1);
    for (size_t k = 0; k < N; ++k) merged[k].push_back(0);
  }
  g.shape = std::move(merged_shape);
  g.strides = std::move(merged);
  return g;
}

// Calls body(ptrs, inner_strides, n) for runs of the innermost dim, over the
// linear range [begin, end) of output elements. ptrs point at the run's first element.
template <size_t N, class Body>
void for_each_run(const Geometry<N>& g, int64_t begin, int64_t end, Body&& body) {
  const int64_t nd = int64_t(g.shape.size());
  const int64_t inner = g.shape[nd - 1];
  Shape idx(nd, 0);
  int64_t rem = begin;
  for (int64_t d = nd - 1; d >= 0; --d) {
    idx[d] = rem % g.shape[d];
    rem /= g.shape[d];
  }
  std::array<int64_t, N> inner_stride;
  for (size_t k = 0; k < N; ++k) inner_stride[k] = g.strides[k][nd - 1];
  int64_t pos = begin;
  while (pos < end) {
    std::array<char*, N> p;
    for (size_t k = 0; k < N; ++k) {
      int64_t off = 0;
      for (int64_t d = 0; d < nd; ++d) off += idx[d] * g.strides[k][d];
      p[k] = g.base[k] + off * int64_t(g.elem_size[k]);
    }
    const int64_t n = std::min(inner - idx[nd - 1], end - pos);
    body(p, inner_stride, n);
    pos += n;
    idx[nd - 1] += n;
    for (int64_t d = nd - 1; d > 0 && idx[d] >= g.shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// ---- 16-bit floats in blocks ------------------------------------------------------
// Element by element, a bf16/f16 operand converts through a struct whose
// scalar code keeps GCC from vectorising the op. Contiguous runs instead go
// through float blocks: widen, apply the op as for f32, narrow (round to
// nearest even); each of the three loops vectorises.

template <class T> inline constexpr bool kHalfStorage = std::is_same_v<T, BFloat16> || std::is_same_v<T, Half>;

inline void widen(const BFloat16* in, float* out, int64_t n) {
  const uint16_t* b = reinterpret_cast<const uint16_t*>(in);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = std::bit_cast<float>(uint32_t(b[i]) << 16);
}

// Round to nearest even; a NaN stays a (quiet) NaN.
inline uint16_t bf16_bits_nearest_even(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const bool nan = (x & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = x + 0x7fffu + ((x >> 16) & 1u);
  return nan ? uint16_t((x >> 16) | 0x40u) : uint16_t(rounded >> 16);
}

inline void narrow(const float* in, BFloat16* out, int64_t n) {
  uint16_t* o = reinterpret_cast<uint16_t*>(out);
  int64_t i = 0;
#if defined(__AVX512BF16__)
  // One instruction per 16 floats, 1.75x faster than the loop below, and the
  // same bits except that it flushes subnormal floats to zero: lanes holding
  // one (rare; |x| - 1 below the mantissa mask) are rounded by the scalar rule.
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff), one = _mm512_set1_epi32(1),
                mantissa = _mm512_set1_epi32(0x007fffff);
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(in + i);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + i), reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x)));
    const __m512i below = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(x), magnitude), one);
    if (const unsigned subnormal = _mm512_cmplt_epu32_mask(below, mantissa)) [[unlikely]] {
      for (unsigned m = subnormal; m != 0; m &= m - 1) {
        const int64_t k = i + std::countr_zero(m);
        o[k] = bf16_bits_nearest_even(in[k]);
      }
    }
  }
#endif
#pragma omp simd
  for (int64_t j = i; j < n; ++j) o[j] = bf16_bits_nearest_even(in[j]);
}

inline void widen(const Half* in, float* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
#endif
  for (; i < n; ++i) out[i] = float(in[i]);
}

inline void narrow(const float* in, Half* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
  for (; i < n; ++i) out[i] = Half(in[i]);
}

namespace detail {

// What a block of an operand of storage type T holds: float for 16-bit floats.
template <class T> using block_t = std::conditional_t<kHalfStorage<T>, float, T>;

// The inner loops are flattened: the element function and everything it
// calls (fexp, ferfc, ...) inlined into the `omp simd` loop, which otherwise
// runs a scalar call per element wherever GCC's inliner ran out of budget in
// a file (it did for GELU's functions in unary.cpp, 3-20x slower).

// Contiguous operands, some of them 16-bit floats: through float blocks.
template <class Out, class... In, class Op, size_t... I>
[[gnu::flatten]] void run_blocked(Op& op, Out* out, const std::tuple<const In*...>& in, int64_t n, std::index_sequence<I...>) {
  constexpr int64_t kBlock = 256;
  std::tuple<std::array<block_t<In>, kHalfStorage<In> ? kBlock : 1>...> widened;
  std::array<float, kBlock> narrowed;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t m = std::min(kBlock, n - start);
    const std::tuple<const block_t<In>*...> src{[&]() -> const block_t<In>* {
      const In* x = std::get<I>(in) + start;
      if constexpr (kHalfStorage<In>) {
        widen(x, std::get<I>(widened).data(), m);
        return std::get<I>(widened).data();
      } else {
        return x;
      }
    }()...};
    if constexpr (kHalfStorage<Out>) {
      float* o = narrowed.data();
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) o[i] = float(op(compute_t<In>(std::get<I>(src)[i])...));
      narrow(o, out + start, m);
    } else {
      Out* o = out + start;
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) o[i] = Out(op(compute_t<In>(std::get<I>(src)[i])...));
    }
  }
}

template <class T> inline compute_t<T> load(const char* p, int64_t i) {
  return compute_t<T>(reinterpret_cast<const T*>(p)[i]);
}

// One run of n elements. The fast paths have compile-time unit/zero strides.
template <class Out, class... In, class Op, size_t... I>
[[gnu::flatten]] void run_inner(Op& op_ref, std::array<char*, sizeof...(In) + 1> p,
               const std::array<int64_t, sizeof...(In) + 1>& s, int64_t n,
               std::index_sequence<I...>) {
  // A copy whose address never escapes: the scalars op captured (a fill
  // value, an alpha) then stay in registers, where read through a reference
  // the stores to out might alias them and the loops reloaded them per
  // element or ran scalar.
  Op op = op_ref;
  Out* out = reinterpret_cast<Out*>(p[0]);
  const bool all_unit = s[0] == 1 && ((s[I + 1] == 1) && ...);
  if (all_unit) {
    std::tuple<const In*...> in{reinterpret_cast<const In*>(p[I + 1])...};
    if constexpr (kHalfStorage<Out> || (kHalfStorage<In> || ...)) {
      return run_blocked<Out, In...>(op, out, in, n, std::index_sequence<I...>{});
    }
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = Out(op(compute_t<In>(std::get<I>(in)[i])...));
    return;
  }
  if constexpr (sizeof...(In) == 2) {
    // tensor (op) broadcast scalar and the reverse: hoist the scalar.
    using A = std::tuple_element_t<0, std::tuple<In...>>;
    using B = std::tuple_element_t<1, std::tuple<In...>>;
    if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const A* a = reinterpret_cast<const A*>(p[1]);
      const auto b = load<B>(p[2], 0);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = Out(op(compute_t<A>(a[i]), b));
      return;
    }
    if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const auto a = load<A>(p[1], 0);
      const B* b = reinterpret_cast<const B*>(p[2]);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = Out(op(a, compute_t<B>(b[i])));
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    out[i * s[0]] = Out(op(load<In>(p[I + 1], i * s[I + 1])...));
}

}  // namespace detail

// out[i] = op(in[i]...) with broadcasting; Out/In are the storage types and
// op receives and returns compute types (float for f16/bf16). out may alias
// an input with identical geometry (in-place ops).
template <class Out, class... In, class Op>
void map(Tensor& out, const std::array<const Tensor*, sizeof...(In)>& in, Op op) {
  constexpr size_t N = sizeof...(In) + 1;
  if (out.numel() == 0) return;
  const Geometry<N> g = make_geometry<N>(out, in);
  parallel_for_aligned(out.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
    Op local = op;
    for_each_run<N>(g, b, e, [&](const std::array<char*, N>& p, const std::array<int64_t, N>& s,
                                 int64_t n) {
      detail::run_inner<Out, In...>(local, p, s, n, std::index_sequence_for<In...>{});
    });
  });
}

// Fills out[i] = gen(linear index i) for a contiguous output.
template <class Out, class Gen> void generate(Tensor& out, Gen gen) {
  DLT_ASSERT(out.is_contiguous(), "generate needs a contiguous output");
  Out* o = out.data_ptr<Out>();
  parallel_for(0, out.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = Out(gen(i));
  });
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
