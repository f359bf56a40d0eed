// The reduction engine of the CPU backend. reduce_plan.h brings any
// reduction to x[A, O, K, I] -> out[O, I]; two loops reduce over K:
//   rows     I == 1: each output reduces K contiguous values with independent
//            lanes (sum over the last dim, or over everything);
//   columns  I > 1: rows of K are accumulated into I outputs at once,
//            vectorised across I (sum over dim 0 of (B, C): every bias gradient).
// When A > 1 the partial results [A, O, I] are then reduced as columns.
//
// Results do not depend on the thread count: the work is cut into fixed
// blocks (about kReduceBlock elements, a function of the shape only), each
// block is reduced by one thread in a fixed order, and partial results are
// combined in block order.
#pragma once

#include <algorithm>
#include <memory>

#include "dlt/core/parallel.h"
#include "kernels/cpu/reduce_plan.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

// A reduction policy P over storage type T describes one reduction:
//   using Acc;                              the accumulator type
//   Acc identity() const;                   the value of an empty reduction
//   Acc load(T v, Acc param) const;         one element; param is a per-output
//                                           value (the mean for var, the max
//                                           for logsumexp), zero when absent
//   Acc combine(Acc a, Acc b) const;
//   Out finish(Acc a, Acc param) const;     the output value
template <class P> using acc_of = typename P::Acc;

inline constexpr int64_t kReduceGrain = 32768;  // elements worth a thread
inline constexpr int kLanes = 32;               // independent accumulators of a row
inline constexpr int kShortRowLanes = 8;        // the same for rows under 8 * kLanes
inline constexpr int64_t kLaneRun = 64;         // lane steps before the lanes flush
inline constexpr int64_t kColumnTile = 256;     // outputs accumulated together (in L1)
inline constexpr int64_t kColumnRun = 32;       // rows before a tile's accumulators flush

namespace detail {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Per-output params of [O, I] outputs, seen from row o of a layout whose
// outer rows repeat every `period` rows (the A slices of x[A, O, K, I]).
template <class Acc> struct Params {
  const Acc* values = nullptr;  // nullptr: every param is zero
  int64_t period = 1;
  int64_t inner = 1;
  Acc at(int64_t o, int64_t i) const {
    return values ? values[(o % period) * inner + i] : Acc();
  }
  const Acc* row(int64_t o) const { return values ? values + (o % period) * inner : nullptr; }
};

// P with the result left unfinished: the partials of a two-stage reduction.
template <class P> struct Unfinished : P {
  acc_of<P> finish(acc_of<P> a, acc_of<P>) const { return a; }
};
// P over its own partials: combine them, then finish.
template <class P> struct Merge : P {
  acc_of<P> load(acc_of<P> v, acc_of<P>) const { return v; }
};

}  // namespace detail

// Reduces n contiguous values with `Lanes` independent accumulators, so the
// loop vectorises. The lanes start afresh every kLaneRun steps and flush into
// running totals: no accumulator adds more than kLaneRun terms (float sums
// stay accurate). The tail (< Lanes values) goes into the totals directly.
template <int Lanes, class P, class T>
acc_of<P> reduce_lanes(const P& p, const T* x, int64_t n, acc_of<P> param) {
  using Acc = acc_of<P>;
  constexpr int64_t kChunk = kLaneRun * Lanes;
  Acc total[Lanes];
  for (int j = 0; j < Lanes; ++j) total[j] = p.identity();
  const int64_t full = n - n % Lanes;
  for (int64_t i = 0; i < full; i += kChunk) {
    const int64_t end = std::min(full, i + kChunk);
    Acc lanes[Lanes];
    for (int j = 0; j < Lanes; ++j) lanes[j] = p.identity();
    for (int64_t k = i; k < end; k += Lanes) {
#pragma omp simd
      for (int j = 0; j < Lanes; ++j) lanes[j] = p.combine(lanes[j], p.load(x[k + j], param));
    }
#pragma omp simd
    for (int j = 0; j < Lanes; ++j) total[j] = p.combine(total[j], lanes[j]);
  }
  for (int64_t k = full; k < n; ++k)
    total[k - full] = p.combine(total[k - full], p.load(x[k], param));
  for (int w = Lanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) total[j] = p.combine(total[j], total[j + w]);
  return total[0];
}

// Reduces n contiguous values: many lanes hide the latency of long chains,
// few keep short rows (e.g. the H*W of a small feature map) vectorised.
template <class P, class T>
acc_of<P> reduce_contiguous(const P& p, const T* x, int64_t n, acc_of<P> param) {
  if (n >= 8 * kLanes) return reduce_lanes<kLanes>(p, x, n, param);
  return reduce_lanes<kShortRowLanes>(p, x, n, param);
}

// Rows: out[o] = reduce x[o, 0..K). Rows longer than kReduceBlock are cut
// into blocks reduced in parallel, then combined in order.
template <class P, class T, class Out>
void reduce_rows(const P& p, const T* x, int64_t O, int64_t K,
                 const detail::Params<acc_of<P>>& params, Out* out) {
  using Acc = acc_of<P>;
  const int64_t blocks = std::max<int64_t>(1, detail::ceil_div(K, kReduceBlock));
  if (blocks == 1) {
    const int64_t grain = std::max<int64_t>(1, kReduceGrain / K);
    parallel_for(0, O, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const Acc param = params.at(o, 0);
        out[o] = p.finish(reduce_contiguous(p, x + o * K, K, param), param);
      }
    });
    return;
  }
  const auto partial = std::make_unique_for_overwrite<Acc[]>(size_t(O * blocks));
  parallel_for(0, O * blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / blocks, k0 = (item % blocks) * kReduceBlock;
      partial[item] =
          reduce_contiguous(p, x + o * K + k0, std::min(kReduceBlock, K - k0), params.at(o, 0));
    }
  });
  for (int64_t o = 0; o < O; ++o) {
    Acc acc = partial[o * blocks];
    for (int64_t blk = 1; blk < blocks; ++blk) acc = p.combine(acc, partial[o * blocks + blk]);
    out[o] = p.finish(acc, params.at(o, 0));
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

// Columns: out[o, i] = reduce x[o, 0..K, i]. The I outputs are cut into
// tiles and K into blocks of kReduceBlock elements of a tile; every
// (o, block, tile) is an independent work item, and block partials are
// combined in block order.
template <class P, class T, class Out>
void reduce_columns(const P& p, const T* x, int64_t O, int64_t K, int64_t I,
                    const detail::Params<acc_of<P>>& params, Out* out) {
  using Acc = acc_of<P>;
  const int64_t tiles = detail::ceil_div(I, kColumnTile);
  const int64_t block_rows = std::max<int64_t>(1, kReduceBlock / std::min(I, kColumnTile));
  const int64_t blocks = detail::ceil_div(K, block_rows);
  const int64_t item_elems = std::min(K, block_rows) * std::min(I, kColumnTile);
  const int64_t grain = std::max<int64_t>(1, kReduceGrain / item_elems);
  // Not a std::vector: Acc may be bool, and threads write neighbouring elements.
  const auto partial =
      std::make_unique_for_overwrite<Acc[]>(blocks > 1 ? size_t(O * blocks * I) : 0);
  auto finish_tile = [&](const Acc* acc, int64_t o, int64_t i0, int64_t w) {
    for (int64_t i = 0; i < w; ++i)
      out[o * I + i0 + i] = p.finish(acc[i], params.at(o, i0 + i));
  };

  parallel_for(0, O * blocks * tiles, grain, [&](int64_t b, int64_t e) {
    Acc zero_params[kColumnTile] = {};
    Acc acc[kColumnTile];
    for (int64_t item = b; item < e; ++item) {
      const int64_t tile = item % tiles, blk = (item / tiles) % blocks, o = item / (tiles * blocks);
      const int64_t i0 = tile * kColumnTile, w = std::min(kColumnTile, I - i0);
      const int64_t k0 = blk * block_rows, rows = std::min(block_rows, K - k0);
      const Acc* pp = params.values ? params.row(o) + i0 : zero_params;
      reduce_column_tile(p, x + (o * K + k0) * I + i0, rows, I, w, pp, acc);
      if (blocks == 1)
        finish_tile(acc, o, i0, w);
      else
        std::copy(acc, acc + w, partial.get() + (o * blocks + blk) * I + i0);
    }
  });
  if (blocks == 1) return;
  const int64_t combine_grain = std::max<int64_t>(1, kReduceGrain / (blocks * kColumnTile));
  parallel_for(0, O * tiles, combine_grain, [&](int64_t b, int64_t e) {
    Acc acc[kColumnTile];
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / tiles, i0 = (item % tiles) * kColumnTile;
      const int64_t w = std::min(kColumnTile, I - i0);
      const Acc* part = partial.get() + o * blocks * I + i0;
      std::copy(part, part + w, acc);
      for (int64_t blk = 1; blk < blocks; ++blk) {
        const Acc* next = part + blk * I;
#pragma omp simd
        for (int64_t i = 0; i < w; ++i) acc[i] = p.combine(acc[i], next[i]);
      }
      finish_tile(acc, o, i0, w);
    }
  });
}

// out[o, i] = reduce x[o, 0..K, i] for O outer rows.
template <class P, class T, class Out>
void reduce_over_k(const P& p, const T* x, int64_t O, int64_t K, int64_t I,
                   const detail::Params<acc_of<P>>& params, Out* out) {
  if (I == 1)
    reduce_rows(p, x, O, K, params, out);
  else
    reduce_columns(p, x, O, K, I, params, out);
}

// Runs policy p over a plan into out[O * I] (contiguous, kept dims in order).
// params: one value per output (see the policy's load), or nullptr.
template <class P, class T, class Out>
void run_reduction(const P& p, const ReducePlan& plan, const acc_of<P>* params, Out* out) {
  using Acc = acc_of<P>;
  const auto [A, O, K, I] = plan.layout;
  if (O * I == 0) return;
  const detail::Params<Acc> per_output{params, O, I};
  if (A * K == 0) {  // an empty reduction: the identity, finished
    for (int64_t i = 0; i < O * I; ++i) out[i] = p.finish(p.identity(), per_output.at(0, i));
    return;
  }
  const T* x = plan.src.data_ptr<T>();
  if (A == 1) {
    reduce_over_k(p, x, O, K, I, per_output, out);
    return;
  }
  // Two stages: partials [A, O, I] over K, then those over A, as columns.
  const auto partial = std::make_unique_for_overwrite<Acc[]>(size_t(A * O * I));
  reduce_over_k(detail::Unfinished<P>{p}, x, A * O, K, I, per_output, partial.get());
  reduce_columns(detail::Merge<P>{p}, partial.get(), 1, A, O * I,
                 detail::Params<Acc>{params, 1, O * I}, out);
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
