// How the CPU reduction engine (reduce.h) walks an input: the reduced and
// kept dims are merged into at most four contiguous groups,
//
//   x[A, O, K, I]  ->  out[O, I] = reduce over A and K
//
// with I the innermost. A > 1 only when kept dims split the reduced ones
// (dims {0, 2} of (B, C, H*W): the bias gradient of a convolution). A
// transposed input is walked in memory order, without a copy; other strided
// inputs, and layouts that fit no such pattern, are copied first.
#pragma once

#include <algorithm>
#include <vector>

#include "dlt/core/tensor.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

struct ReduceLayout {
  int64_t repeat = 1;  // A: reduced dims outside the kept ones
  int64_t outer = 1;   // O: kept
  int64_t reduce = 1;  // K: reduced
  int64_t inner = 1;   // I: kept, contiguous
};

struct ReducePlan {
  Tensor src;  // the input, or a copy, dense in the layout's order
  ReduceLayout layout;
  int64_t reduced_count() const { return layout.repeat * layout.reduce; }  // per output
  int64_t outputs() const { return layout.outer * layout.inner; }
};

// Below this many kept inner elements the column loop cannot vectorise well:
// large inputs are regathered into rows instead.
inline constexpr int64_t kMinColumnInner = 16;
// Inputs smaller than this are never worth a copy.
inline constexpr int64_t kSmallReduction = 16384;

namespace detail {

// A contiguous copy of a strided tensor (or x itself), made without autograd.
inline Tensor contiguous_copy(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).device(x.device()));
  visit_dtype(x.dtype(), [&]<class T>() {
    map<T, T>(out, {&x}, [](compute_t<T> v) { return v; });
  });
  return out;
}

// x's dims of size > 1 in memory order when x is a permutation of a dense
// tensor (a transpose); empty otherwise.
inline std::vector<size_t> dense_memory_order(const Tensor& x) {
  std::vector<size_t> order;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (x.shape()[d] != 1) order.push_back(d);
  const Shape& st = x.strides();
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return st[a] > st[b]; });
  int64_t expected = 1;
  for (size_t k = order.size(); k-- > 0;) {
    if (st[order[k]] != expected) return {};
    expected *= x.shape()[order[k]];
  }
  return order;
}

// The dims of x to walk, outermost first, and the tensor to walk them in.
// Size-1 dims change neither the layout nor the order of the output: they
// are left out. A transpose is walked in memory order when its kept dims
// stay in order (the output is written in that order).
inline std::vector<size_t> walk_order(const Tensor& x, const std::vector<bool>& reduced,
                                      Tensor& src) {
  src = x;
  if (!x.is_contiguous()) {
    std::vector<size_t> order;
    if (x.numel() > 0) order = dense_memory_order(x);
    bool kept_in_order = true;
    size_t last_kept = 0;
    for (size_t d : order) {
      if (reduced[d]) continue;
      kept_in_order = kept_in_order && last_kept <= d;
      last_kept = d;
    }
    if (!order.empty() && kept_in_order) return order;
    src = contiguous_copy(x);
  }
  std::vector<size_t> order;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (x.shape()[d] != 1) order.push_back(d);
  return order;
}

}  // namespace detail

// Plans the reduction of x over `dims` (wrapped, sorted, unique; empty means
// every dim). The output is [O, I] in the order of the kept dims.
inline ReducePlan plan_reduction(const Tensor& x, const Shape& dims) {
  const Shape& shape = x.shape();
  const size_t nd = shape.size();
  std::vector<bool> reduced(nd, dims.empty());
  for (int64_t d : dims) reduced[size_t(d)] = true;

  Tensor src;
  std::vector<std::pair<bool, int64_t>> groups;  // (reduced, size), neighbours merged
  for (size_t d : detail::walk_order(x, reduced, src)) {
    if (!groups.empty() && groups.back().first == reduced[d])
      groups.back().second *= shape[d];
    else
      groups.emplace_back(reduced[d], shape[d]);
  }
  ReduceLayout L;
  size_t g = 0;
  auto next_is = [&](bool is_reduced) { return g < groups.size() && groups[g].first == is_reduced; };
  if (groups.size() >= 3 && groups[0].first) L.repeat = groups[g++].second;  // R K R ...
  if (next_is(false)) L.outer = groups[g++].second;
  if (next_is(true)) L.reduce = groups[g++].second;
  if (next_is(false)) L.inner = groups[g++].second;
  const bool fits = g == groups.size();
  if (L.reduce == 1 && L.repeat == 1) L = {1, 1, 1, x.numel()};  // nothing to reduce
  const bool narrow_columns = L.inner > 1 && L.inner < kMinColumnInner &&
                              x.numel() > kSmallReduction;
  if (fits && !narrow_columns) return {src, L};

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
  return {detail::contiguous_copy(make_view(x, perm_shape, perm_strides, x.offset())), rows};
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
