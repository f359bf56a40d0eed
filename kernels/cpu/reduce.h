// The reduction engine of the CPU backend. Any reduction is brought to one
// layout of a contiguous buffer, x[O, K, I]: O kept outer elements, K reduced
// elements, I kept inner elements (contiguous). Two loops cover it:
//   rows     I == 1: each output reduces K contiguous values with independent
//            lanes (sum over the last dim, or over everything);
//   columns  I > 1: rows of K are accumulated into I outputs at once,
//            vectorised across I (sum over dim 0 of (B, C): every bias gradient).
// Reduced dims that are not one contiguous block (e.g. dims {0, 2} of a
// (B, C, H, W) tensor) are first gathered into rows (kept dims first).
//
// Results do not depend on the thread count: the work is cut into fixed
// blocks (kReduceBlock elements, a function of the shape only), each block is
// reduced by one thread in a fixed order, and partial results are combined in
// block order.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "dlt/core/parallel.h"
#include "dlt/core/tensor.h"
#include "kernels/cpu/loops.h"

namespace dlt::cpu {

// A reduction policy P over storage type T describes one reduction:
//   using Acc;                              the accumulator type
//   Acc identity() const;                   the value of an empty reduction
//   Acc load(T v, Acc param) const;         one element; param is a per-output
//                                           value (the mean for var, the max
//                                           for logsumexp), zero when absent
//   Acc combine(Acc a, Acc b) const;
//   Out finish(Acc a, Acc param) const;     the output value
template <class P> using acc_of = typename P::Acc;

struct ReduceLayout {
  int64_t outer = 1, reduce = 1, inner = 1;
};

// The input in the layout the loops need, copied only when necessary.
struct ReducePlan {
  Tensor src;  // contiguous
  ReduceLayout layout;
};

inline constexpr int64_t kReduceGrain = 32768;  // elements worth a thread
inline constexpr int kLanes = 16;               // independent accumulators of a row
inline constexpr int64_t kLaneRun = 64;         // lane steps before the lanes flush
inline constexpr int64_t kColumnTile = 256;     // outputs accumulated together (in L1)
inline constexpr int64_t kColumnRun = 32;       // rows before a tile's accumulators flush
// Below this many kept inner elements the column loop cannot vectorise well:
// large inputs are regathered into rows instead.
inline constexpr int64_t kMinColumnInner = 16;

namespace detail {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A contiguous copy of a (strided) tensor, made without autograd.
inline Tensor contiguous_copy(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).device(x.device()));
  visit_dtype(x.dtype(), [&]<class T>() {
    map<T, T>(out, {&x}, [](compute_t<T> v) { return v; });
  });
  return out;
}

}  // namespace detail

// Plans the reduction of x over `dims` (wrapped, sorted, unique; empty means
// every dim). The output of the reduction is [O, I] in the order of the kept dims.
inline ReducePlan plan_reduction(const Tensor& x, const Shape& dims) {
  const Shape& shape = x.shape();
  const size_t nd = shape.size();
  std::vector<bool> reduced(nd, dims.empty());
  for (int64_t d : dims) reduced[size_t(d)] = true;

  // Merge neighbouring dims of the same kind; size-1 dims fit either kind.
  std::vector<std::pair<bool, int64_t>> groups;  // (reduced, size)
  for (size_t d = 0; d < nd; ++d) {
    if (shape[d] == 1) continue;
    if (!groups.empty() && groups.back().first == reduced[d])
      groups.back().second *= shape[d];
    else
      groups.emplace_back(reduced[d], shape[d]);
  }
  ReduceLayout L;
  bool simple = true;
  size_t g = 0;
  if (g < groups.size() && !groups[g].first) L.outer = groups[g++].second;
  if (g < groups.size() && groups[g].first) L.reduce = groups[g++].second;
  if (g < groups.size() && !groups[g].first) L.inner = groups[g++].second;
  simple = g == groups.size();
  if (L.reduce == 1) {  // nothing to reduce: one vectorised pass over everything
    L = {1, 1, x.numel()};
  }
  const bool narrow_columns = L.inner > 1 && L.inner < kMinColumnInner &&
                              L.outer * L.reduce * L.inner > kReduceBlock;
  if (simple && !narrow_columns) return {detail::contiguous_copy(x), L};

  // Gather kept dims first, reduced dims last: rows [O, K].
  Shape perm_shape, perm_strides;
  ReduceLayout rows;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t d = 0; d < nd; ++d) {
      if (reduced[d] != (pass == 1)) continue;
      perm_shape.push_back(shape[d]);
      perm_strides.push_back(x.strides()[d]);
      (pass == 0 ? rows.outer : rows.reduce) *= shape[d];
    }
  const Tensor view = make_view(x, perm_shape, perm_strides, x.offset());
  Tensor src = empty(perm_shape, TensorOptions(x.dtype()).device(x.device()));
  visit_dtype(x.dtype(), [&]<class T>() {
    map<T, T>(src, {&view}, [](compute_t<T> v) { return v; });
  });
  return {src, rows};
}

// Reduces n contiguous values. kLanes independent accumulators let the loop
// vectorise; they flush into running totals every kLaneRun steps so no
// accumulator adds more than a few hundred terms (float sums stay accurate).
template <class P, class T>
acc_of<P> reduce_contiguous(const P& p, const T* x, int64_t n, acc_of<P> param) {
  using Acc = acc_of<P>;
  Acc total[kLanes], lanes[kLanes];
  for (int j = 0; j < kLanes; ++j) total[j] = p.identity();
  const int64_t full = n - n % kLanes;
  int64_t i = 0;
  while (i < full) {
    const int64_t run_end = std::min(full, i + kLaneRun * kLanes);
    for (int j = 0; j < kLanes; ++j) lanes[j] = p.identity();
    for (; i < run_end; i += kLanes) {
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) lanes[j] = p.combine(lanes[j], p.load(x[i + j], param));
    }
    for (int j = 0; j < kLanes; ++j) total[j] = p.combine(total[j], lanes[j]);
  }
  for (int j = 0; i + j < n; ++j) total[j] = p.combine(total[j], p.load(x[i + j], param));
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) total[j] = p.combine(total[j], total[j + w]);
  return total[0];
}

// Rows: out[o] = reduce x[o, 0..K). Rows longer than kReduceBlock are cut
// into blocks reduced in parallel, then combined in order.
template <class P, class T, class Out>
void reduce_rows(const P& p, const T* x, int64_t O, int64_t K, const acc_of<P>* params, Out* out) {
  using Acc = acc_of<P>;
  auto param = [params](int64_t o) { return params ? params[o] : Acc(); };
  const int64_t blocks = std::max<int64_t>(1, detail::ceil_div(K, kReduceBlock));
  if (blocks == 1) {
    const int64_t grain = std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(K, 1));
    parallel_for(0, O, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        out[o] = p.finish(reduce_contiguous(p, x + o * K, K, param(o)), param(o));
    });
    return;
  }
  const auto partial = std::make_unique_for_overwrite<Acc[]>(size_t(O * blocks));
  parallel_for(0, O * blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / blocks, k0 = (item % blocks) * kReduceBlock;
      partial[item] =
          reduce_contiguous(p, x + o * K + k0, std::min(kReduceBlock, K - k0), param(o));
    }
  });
  for (int64_t o = 0; o < O; ++o) {
    Acc acc = partial[o * blocks];
    for (int64_t blk = 1; blk < blocks; ++blk) acc = p.combine(acc, partial[o * blocks + blk]);
    out[o] = p.finish(acc, param(o));
  }
}

// Accumulates `rows` rows (row stride `stride`) of w <= kColumnTile values.
// Runs of kColumnRun rows are summed first, then added to the totals.
template <class P, class T>
void reduce_column_tile(const P& p, const T* x, int64_t rows, int64_t stride, int64_t w,
                        const acc_of<P>* params, acc_of<P>* result) {
  using Acc = acc_of<P>;
  Acc run[kColumnTile];
  for (int64_t i = 0; i < w; ++i) result[i] = p.identity();
  for (int64_t r0 = 0; r0 < rows; r0 += kColumnRun) {
    for (int64_t i = 0; i < w; ++i) run[i] = p.identity();
    const int64_t r1 = std::min(rows, r0 + kColumnRun);
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = x + r * stride;
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) run[i] = p.combine(run[i], p.load(row[i], params[i]));
    }
#pragma omp simd
    for (int64_t i = 0; i < w; ++i) result[i] = p.combine(result[i], run[i]);
  }
}

// Columns: out[o, i] = reduce x[o, 0..K, i]. K is cut into blocks of about
// kReduceBlock elements, the I outputs into tiles; every (o, block, tile) is
// an independent work item, and block partials are combined in order.
template <class P, class T, class Out>
void reduce_columns(const P& p, const T* x, const ReduceLayout& L, const acc_of<P>* params,
                    Out* out) {
  using Acc = acc_of<P>;
  const int64_t O = L.outer, K = L.reduce, I = L.inner;
  const int64_t block_rows = std::max<int64_t>(1, kReduceBlock / I);
  const int64_t blocks = std::max<int64_t>(1, detail::ceil_div(K, block_rows));
  const int64_t tiles = detail::ceil_div(I, kColumnTile);
  const int64_t item_elems = std::min(K, block_rows) * std::min(I, kColumnTile);
  const int64_t grain = std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(item_elems, 1));
  // Not a std::vector: Acc may be bool, and threads write neighbouring elements.
  const auto partial = std::make_unique_for_overwrite<Acc[]>(blocks > 1 ? size_t(O * blocks * I) : 0);

  parallel_for(0, O * blocks * tiles, grain, [&](int64_t b, int64_t e) {
    Acc zero_params[kColumnTile] = {};
    Acc acc[kColumnTile];
    for (int64_t item = b; item < e; ++item) {
      const int64_t tile = item % tiles, blk = (item / tiles) % blocks, o = item / (tiles * blocks);
      const int64_t i0 = tile * kColumnTile, w = std::min(kColumnTile, I - i0);
      const int64_t k0 = blk * block_rows, rows = std::min(block_rows, K - k0);
      const Acc* pp = params ? params + o * I + i0 : zero_params;
      reduce_column_tile(p, x + (o * K + k0) * I + i0, rows, I, w, pp, acc);
      if (blocks == 1) {
        Out* dst = out + o * I + i0;
        for (int64_t i = 0; i < w; ++i) dst[i] = p.finish(acc[i], pp[i]);
      } else {
        std::copy(acc, acc + w, partial.get() + (o * blocks + blk) * I + i0);
      }
    }
  });
  if (blocks == 1) return;
  parallel_for(0, O * I, kReduceGrain / std::max<int64_t>(blocks, 1), [&](int64_t b, int64_t e) {
    for (int64_t oi = b; oi < e; ++oi) {
      const int64_t o = oi / I, i = oi % I;
      const Acc* part = partial.get() + o * blocks * I + i;
      Acc acc = part[0];
      for (int64_t blk = 1; blk < blocks; ++blk) acc = p.combine(acc, part[blk * I]);
      out[oi] = p.finish(acc, params ? params[oi] : Acc());
    }
  });
}

// Runs policy p over a plan into out[O * I] (contiguous, kept dims in order).
template <class P, class T, class Out>
void run_reduction(const P& p, const ReducePlan& plan, const acc_of<P>* params, Out* out) {
  const ReduceLayout& L = plan.layout;
  const int64_t outputs = L.outer * L.inner;
  if (outputs == 0) return;
  if (L.reduce == 0) {  // an empty reduction: the identity, finished
    for (int64_t i = 0; i < outputs; ++i)
      out[i] = p.finish(p.identity(), params ? params[i] : acc_of<P>());
    return;
  }
  const T* x = plan.src.data_ptr<T>();
  if (L.inner == 1)
    reduce_rows(p, x, L.outer, L.reduce, params, out);
  else
    reduce_columns(p, x, L, params, out);
}

}  // namespace dlt::cpu
