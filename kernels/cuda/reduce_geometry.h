// How the GPU reduction kernels walk an input of any strides, planned on the
// host (plain C++: the CPU build unit-tests it). The dims are split into
//
//   kept    -> the outputs, row-major in the order of the input's dims
//   reduced -> walked for each output, ordered by stride (innermost last)
//
// size-1 dims are dropped and neighbours that are one dense block in memory
// merged, so a contiguous row reduction has one reduced dim of stride 1 and
// a column reduction a last kept dim of stride 1.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

struct DimList {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
  }
  // Appends a dim, merged into the last one when the pair is one dense block.
  void push(int64_t size, int64_t stride) {
    if (ndim > 0 && strides[ndim - 1] == stride * size) {
      shape[ndim - 1] *= size;
      strides[ndim - 1] = stride;
      return;
    }
    shape[ndim] = size;
    strides[ndim] = stride;
    ++ndim;
  }
};

struct ReduceGeometry {
  DimList kept, reduced;
  int64_t outputs = 1;  // product of the kept dims
  int64_t count = 1;    // elements reduced into each output

  // The innermost reduced dim is contiguous: each output reads rows.
  bool reads_rows() const { return reduced.ndim == 0 || reduced.strides[reduced.ndim - 1] == 1; }
  // Neighbouring outputs are neighbours in memory: columns read coalesced.
  bool reads_columns() const {
    return !reads_rows() && kept.ndim > 0 && kept.strides[kept.ndim - 1] == 1;
  }
};

// `reduced_mask` has bit d set for every reduced dim d of x.
inline ReduceGeometry plan_reduce_geometry(const TensorArg& x, uint32_t reduced_mask) {
  ReduceGeometry g;
  int order[kMaxDims];
  int n_reduced = 0;
  for (int d = 0; d < x.ndim; ++d) {
    if (x.shape[d] == 1) continue;
    if (reduced_mask >> d & 1u) order[n_reduced++] = d;
    else g.kept.push(x.shape[d], x.strides[d]);
  }
  // Reduced dims by decreasing stride, so the walk is as close to memory
  // order as the strides allow (any order gives the same reduction).
  std::stable_sort(order, order + n_reduced,
                   [&](int a, int b) { return x.strides[a] > x.strides[b]; });
  for (int i = 0; i < n_reduced; ++i) g.reduced.push(x.shape[order[i]], x.strides[order[i]]);
  g.outputs = g.kept.numel();
  g.count = g.reduced.numel();
  return g;
}

// How many slices the reduced elements of each output are cut into, so that
// few outputs over many elements still fill the device. Each slice is
// reduced by one warp / block; a second kernel combines the slices in order.
inline int64_t reduce_splits(const ReduceGeometry& g) {
  constexpr int64_t kMinSliceElements = 8192;
  constexpr int64_t kTargetGroups = 2048;  // warps or column tiles in flight
  if (g.outputs == 0 || g.count < 2 * kMinSliceElements) return 1;
  const int64_t groups = g.reads_columns() ? (g.outputs + 31) / 32 : g.outputs;
  if (groups >= kTargetGroups) return 1;
  const int64_t by_size = g.count / kMinSliceElements;
  const int64_t by_fill = (kTargetGroups + groups - 1) / groups;
  return std::max<int64_t>(1, std::min<int64_t>({by_size, by_fill, 1024}));
}

// Bytes of scratch the sliced reduction needs: one accumulator (at most 16
// bytes: a value and an index) per slice and output.
inline int64_t reduce_workspace_bytes(const ReduceGeometry& g) {
  const int64_t splits = reduce_splits(g);
  return splits > 1 ? splits * g.outputs * 16 : 0;
}

}  // namespace dlt::gpu
