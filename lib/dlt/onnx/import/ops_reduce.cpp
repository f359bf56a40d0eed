// ONNX reductions (ReduceSum, ReduceMean, ..., ArgMax). Their axes moved from
// an attribute to an input: at opset 13 for ReduceSum, 18 for the others.
#include <algorithm>
#include <limits>
#include <numeric>

#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/import/padding.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

using Reduction = Tensor (*)(const Tensor& x, const Shape& dims, bool keepdim);

std::vector<Tensor> reduce(NodeContext& n, int64_t axes_input_since, Reduction f) {
  const Tensor& x = n.input(0);
  std::vector<int64_t> axes;
  if (n.opset() < axes_input_since) axes = n.attr_ints("axes", std::vector<int64_t>{});
  else if (n.has_input(1)) axes = n.input_ints(1);
  const bool keepdims = n.attr_int("keepdims", 1);
  if (axes.empty()) {
    if (n.attr_int("noop_with_empty_axes", 0)) return outs(x);
    axes.resize(static_cast<size_t>(x.dim()));
    std::iota(axes.begin(), axes.end(), 0);
  }
  for (int64_t& a : axes) a = wrap_axis(a, x.dim(), n);
  return outs(f(x, axes, keepdims));
}

// The max (min) of an empty set is -inf (+inf), as ONNX's reference says.
Tensor extreme(const Tensor& x, const Shape& dims, bool keepdim, bool max) {
  if (x.numel() > 0) return max ? amax(x, dims, keepdim) : amin(x, dims, keepdim);
  Shape shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced) shape.push_back(x.size(d));
    else if (keepdim) shape.push_back(1);
  }
  const double inf = std::numeric_limits<double>::infinity();
  return full(shape, Scalar(max ? -inf : inf), TensorOptions(x.dtype()).device(x.device()));
}

#define DLT_ONNX_REDUCE(op_type, since, ...) \
  DLT_ONNX_OP(op_type, [](NodeContext& n) { return reduce(n, since, __VA_ARGS__); })

DLT_ONNX_REDUCE(ReduceSum, 13, [](const Tensor& x, const Shape& d, bool k) { return sum(x, d, k); });
DLT_ONNX_REDUCE(ReduceMean, 18, [](const Tensor& x, const Shape& d, bool k) { return mean(x, d, k); });
DLT_ONNX_REDUCE(ReduceMax, 18, [](const Tensor& x, const Shape& d, bool k) { return extreme(x, d, k, true); });
DLT_ONNX_REDUCE(ReduceMin, 18, [](const Tensor& x, const Shape& d, bool k) { return extreme(x, d, k, false); });
DLT_ONNX_REDUCE(ReduceL1, 18, [](const Tensor& x, const Shape& d, bool k) { return sum(abs(x), d, k); });
DLT_ONNX_REDUCE(ReduceL2, 18, [](const Tensor& x, const Shape& d, bool k) { return sqrt(sum(x * x, d, k)); });
DLT_ONNX_REDUCE(ReduceSumSquare, 18, [](const Tensor& x, const Shape& d, bool k) { return sum(x * x, d, k); });
DLT_ONNX_REDUCE(ReduceLogSum, 18, [](const Tensor& x, const Shape& d, bool k) { return log(sum(x, d, k)); });
DLT_ONNX_REDUCE(ReduceLogSumExp, 18, [](const Tensor& x, const Shape& d, bool k) { return logsumexp(x, d, k); });

// ArgMax/ArgMin: the first extreme index, or the last with select_last_index
// (found as the first one of the reversed axis).
std::vector<Tensor> arg_extreme(NodeContext& n, Tensor (*f)(const Tensor&, int64_t, bool)) {
  const Tensor& x = n.input(0);
  const int64_t axis = wrap_axis(n.attr_int("axis", 0), x.dim(), n);
  const bool keepdims = n.attr_int("keepdims", 1);
  if (!n.attr_int("select_last_index", 0)) return outs(f(x, axis, keepdims));
  const int64_t size = x.size(axis);
  std::vector<int64_t> reversed(static_cast<size_t>(size));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  const Tensor idx = f(index_select(x, axis, index_tensor(reversed, x.device())), axis, keepdims);
  return outs(wrap_scalar(size - 1, idx) - idx);
}
DLT_ONNX_OP(ArgMax, [](NodeContext& n) { return arg_extreme(n, argmax); });
DLT_ONNX_OP(ArgMin, [](NodeContext& n) { return arg_extreme(n, argmin); });

}  // namespace
}  // namespace dlt::onnx_import
