// ONNX ops that move, select or create values: Reshape, Transpose, Slice,
// Gather, Concat, Split, Pad, Constant, Shape, Range, ... Shapes, axes and
// indices given as tensors are read on the host.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/import/padding.h"
#include "dlt/onnx/proto.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

// Axes from the attribute (before `input_since`) or from input `index`.
std::optional<std::vector<int64_t>> axes_of(NodeContext& n, int64_t input_since, size_t index) {
  if (n.opset() < input_since) {
    if (!n.has_attr("axes")) return std::nullopt;
    return n.attr_ints("axes");
  }
  if (!n.has_input(index)) return std::nullopt;
  return n.input_ints(index);
}

DLT_ONNX_OP(Identity, [](NodeContext& n) { return outs(n.input(0)); });

DLT_ONNX_OP(Constant, [](NodeContext& n) {
  if (n.has_attr("value")) return outs(n.attr_tensor("value"));
  if (n.has_attr("value_float"))
    return outs(scalar_tensor(n.attr_float("value_float"), TensorOptions(DType::f32).device(n.device())));
  if (n.has_attr("value_int"))
    return outs(scalar_tensor(n.attr_int("value_int"), TensorOptions(DType::i64).device(n.device())));
  if (n.has_attr("value_floats")) {
    const auto v = n.attr_floats("value_floats");
    return outs(from_blob(v.data(), {static_cast<int64_t>(v.size())}, DType::f32).to(n.device()));
  }
  if (n.has_attr("value_ints")) return outs(index_tensor(n.attr_ints("value_ints"), n.device()));
  throw UnsupportedError(fmt::format("{}: only tensor, float(s) and int(s) values are supported "
                                     "(not strings or sparse tensors)", n.where()));
});

DLT_ONNX_OP(ConstantOfShape, [](NodeContext& n) {
  const Shape shape = n.input_ints(0);
  Tensor value = n.has_attr("value") ? n.attr_tensor("value")
                                     : scalar_tensor(0.0, TensorOptions(DType::f32).device(n.device()));
  DLT_CHECK(value.numel() == 1, "{}: value must hold one element", n.where());
  return outs(value.reshape({}).expand(shape).contiguous());
});

DLT_ONNX_OP(Shape, [](NodeContext& n) {
  const Shape& s = n.input(0).shape();
  const auto rank = static_cast<int64_t>(s.size());
  auto clip = [rank](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank); };
  const int64_t start = clip(n.attr_int("start", 0)), end = clip(n.attr_int("end", rank));
  return outs(index_tensor(std::vector<int64_t>(s.begin() + start, s.begin() + std::max(start, end)),
                         n.device()));
});

DLT_ONNX_OP(Size, [](NodeContext& n) {
  return outs(scalar_tensor(n.input(0).numel(), TensorOptions(DType::i64).device(n.device())));
});

DLT_ONNX_OP(Reshape, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  Shape shape = n.opset() < 5 ? n.attr_ints("shape") : n.input_ints(1);
  const bool allow_zero = n.attr_int("allowzero", 0);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 0 && !allow_zero) {
      DLT_CHECK(static_cast<int64_t>(d) < x.dim(), "{}: shape {} copies dim {} of an input of rank {}",
                n.where(), shape_str(shape), d, x.dim());
      shape[d] = x.size(static_cast<int64_t>(d));
    }
  return outs(x.reshape(shape));
});

DLT_ONNX_OP(Flatten, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  int64_t axis = n.attr_int("axis", 1);
  if (axis < 0) axis += x.dim();
  DLT_CHECK(axis >= 0 && axis <= x.dim(), "{}: axis out of range for rank {}", n.where(), x.dim());
  const Shape& s = x.shape();
  const int64_t outer = std::accumulate(s.begin(), s.begin() + axis, int64_t{1}, std::multiplies<>());
  const int64_t inner = std::accumulate(s.begin() + axis, s.end(), int64_t{1}, std::multiplies<>());
  return outs(x.reshape({outer, inner}));
});

DLT_ONNX_OP(Transpose, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  Shape perm(static_cast<size_t>(x.dim()));
  std::iota(perm.rbegin(), perm.rend(), 0);  // default: reversed
  if (n.has_attr("perm")) perm = n.attr_ints("perm");
  return outs(x.permute(perm));
});

DLT_ONNX_OP(Squeeze, [](NodeContext& n) {
  Tensor x = n.input(0);
  const auto axes = axes_of(n, 13, 1);
  if (!axes) return outs(x.squeeze());
  std::vector<int64_t> wrapped;
  for (int64_t a : *axes) wrapped.push_back(wrap_axis(a, x.dim(), n));
  std::sort(wrapped.rbegin(), wrapped.rend());
  for (int64_t a : wrapped) {
    DLT_CHECK(x.size(a) == 1, "{}: cannot squeeze dim {} of size {}", n.where(), a, x.size(a));
    x = x.squeeze(a);
  }
  return outs(x);
});

DLT_ONNX_OP(Unsqueeze, [](NodeContext& n) {
  Tensor x = n.input(0);
  const auto axes = axes_of(n, 13, 1);
  DLT_CHECK(axes, "{}: axes are required", n.where());
  const int64_t rank = x.dim() + static_cast<int64_t>(axes->size());
  std::vector<int64_t> wrapped;
  for (int64_t a : *axes) wrapped.push_back(wrap_axis(a, rank, n));
  std::sort(wrapped.begin(), wrapped.end());
  for (int64_t a : wrapped) x = x.unsqueeze(a);
  return outs(x);
});

DLT_ONNX_OP(Concat, [](NodeContext& n) {
  std::vector<Tensor> parts;
  for (size_t i = 0; i < n.num_inputs(); ++i)
    if (n.has_input(i)) parts.push_back(n.input(i));
  const int64_t axis = wrap_axis(n.attr_int("axis"), parts.at(0).dim(), n);
  return outs(cat(parts, axis));
});

DLT_ONNX_OP(Split, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const int64_t axis = wrap_axis(n.attr_int("axis", 0), x.dim(), n);
  const int64_t size = x.size(axis);
  std::vector<int64_t> sizes;
  if (n.opset() < 13 && n.has_attr("split")) sizes = n.attr_ints("split");
  else if (n.opset() >= 13 && n.has_input(1)) sizes = n.input_ints(1);
  else {
    // num_outputs (opset 18) or the node's outputs: equal parts, the last smaller.
    const int64_t parts = n.has_attr("num_outputs") ? n.attr_int("num_outputs")
                                                    : static_cast<int64_t>(n.num_outputs());
    DLT_CHECK(parts >= 1, "{}: no outputs", n.where());
    const int64_t chunk = (size + parts - 1) / parts;
    for (int64_t start = 0; start < size || static_cast<int64_t>(sizes.size()) < parts; start += chunk)
      sizes.push_back(std::clamp<int64_t>(size - start, 0, chunk));
    sizes.resize(static_cast<size_t>(parts));
  }
  return split(x, sizes, axis);
});

// Slice's index arithmetic for one axis (numpy's, as ONNX defines it): the
// positions start, start + step, ... before end, each clamped into range.
std::vector<int64_t> slice_positions(int64_t size, int64_t start, int64_t end, int64_t step) {
  auto clamp_bound = [&](int64_t v, bool is_end) {
    if (v < 0) v += size;
    return step > 0 ? std::clamp<int64_t>(v, 0, size) : std::clamp<int64_t>(v, -1, size - 1);
  };
  start = clamp_bound(start, false);
  end = clamp_bound(end, true);
  std::vector<int64_t> positions;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) positions.push_back(i);
  return positions;
}

DLT_ONNX_OP(Slice, [](NodeContext& n) {
  Tensor x = n.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset() < 10) {
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    axes = n.attr_ints("axes", std::vector<int64_t>{});
  } else {
    starts = n.input_ints(1);
    ends = n.input_ints(2);
    if (n.has_input(3)) axes = n.input_ints(3);
    if (n.has_input(4)) steps = n.input_ints(4);
  }
  DLT_CHECK(ends.size() == starts.size(), "{}: {} starts and {} ends", n.where(), starts.size(), ends.size());
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  DLT_CHECK(axes.size() == starts.size() && steps.size() == starts.size(),
            "{}: starts, ends, axes and steps differ in length", n.where());
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = wrap_axis(axes[i], x.dim(), n);
    DLT_CHECK(steps[i] != 0, "{}: step 0", n.where());
    const int64_t size = x.size(axis);
    if (steps[i] > 0) {
      // A view when the step is positive.
      const auto p = slice_positions(size, starts[i], ends[i], steps[i]);
      x = p.empty() ? x.narrow(axis, 0, 0) : x.slice(axis, p.front(), p.back() + 1, steps[i]);
    } else {
      x = index_select(x, axis, index_tensor(slice_positions(size, starts[i], ends[i], steps[i]), x.device()));
    }
  }
  return outs(x);
});

// Indices with negative values counted from the end of a dim of `size`.
Tensor wrap_indices(const Tensor& indices, int64_t size) {
  const Tensor i = indices.to(DType::i64);
  return where(lt(i, wrap_scalar(0, i)), i + size, i);
}

DLT_ONNX_OP(Gather, [](NodeContext& n) {
  const Tensor &x = n.input(0), &indices = n.input(1);
  const int64_t axis = wrap_axis(n.attr_int("axis", 0), x.dim(), n);
  // (outer..., N, inner...) picked by flat indices, then indices' shape spliced in.
  Tensor picked = index_select(x, axis, wrap_indices(indices, x.size(axis)).reshape({-1}));
  Shape shape(x.shape().begin(), x.shape().begin() + axis);
  shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
  shape.insert(shape.end(), x.shape().begin() + axis + 1, x.shape().end());
  return outs(picked.reshape(shape));
});

DLT_ONNX_OP(GatherElements, [](NodeContext& n) {
  const Tensor &x = n.input(0), &indices = n.input(1);
  const int64_t axis = wrap_axis(n.attr_int("axis", 0), x.dim(), n);
  return outs(gather(x, axis, wrap_indices(indices, x.size(axis))));
});

DLT_ONNX_OP(Expand, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  // Bidirectional: the given shape may have 1s where x is larger.
  return outs(x.expand(broadcast_shapes(x.shape(), n.input_ints(1))));
});

DLT_ONNX_OP(Tile, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const std::vector<int64_t> repeats = n.input_ints(1);
  DLT_CHECK(static_cast<int64_t>(repeats.size()) == x.dim(), "{}: {} repeats for rank {}", n.where(),
            repeats.size(), x.dim());
  // (d0, d1, ...) -> (1, d0, 1, d1, ...) expanded to (r0, d0, r1, d1, ...).
  Shape interleaved, expanded, result;
  for (int64_t d = 0; d < x.dim(); ++d) {
    interleaved.insert(interleaved.end(), {1, x.size(d)});
    expanded.insert(expanded.end(), {repeats[static_cast<size_t>(d)], x.size(d)});
    result.push_back(repeats[static_cast<size_t>(d)] * x.size(d));
  }
  return outs(x.reshape(interleaved).expand(expanded).reshape(result));
});

DLT_ONNX_OP(Range, [](NodeContext& n) {
  const Tensor& start = n.input(0);
  const double s = n.input_scalar(0), limit = n.input_scalar(1), delta = n.input_scalar(2);
  DLT_CHECK(delta != 0, "{}: delta 0", n.where());
  const auto count = std::max<int64_t>(static_cast<int64_t>(std::ceil((limit - s) / delta)), 0);
  std::vector<double> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = s + static_cast<double>(i) * delta;
  return outs(from_blob(values.data(), {count}, DType::f64).to(start.dtype()).to(n.device()));
});

DLT_ONNX_OP(Trilu, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const int64_t k = n.has_input(1) ? n.input_ints(1).at(0) : 0;
  return outs(n.attr_int("upper", 1) ? triu(x, k) : tril(x, k));
});

DLT_ONNX_OP(Pad, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const std::string mode = n.attr_string("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  std::vector<int64_t> axes(static_cast<size_t>(x.dim()));
  std::iota(axes.begin(), axes.end(), 0);
  if (n.opset() < 11) {
    pads = n.attr_ints("pads");
    value = n.attr_float("value", 0.0);
  } else {
    pads = n.input_ints(1);
    if (n.has_input(2) && n.input(2).numel() > 0) value = n.input_scalar(2);
    if (n.has_input(3)) {
      axes.clear();
      for (int64_t a : n.input_ints(3)) axes.push_back(wrap_axis(a, x.dim(), n));
    }
  }
  DLT_CHECK(pads.size() == 2 * axes.size(), "{}: {} pads for {} axes", n.where(), pads.size(), axes.size());
  std::vector<int64_t> begins(static_cast<size_t>(x.dim()), 0), ends = begins;
  for (size_t i = 0; i < axes.size(); ++i) {
    begins[static_cast<size_t>(axes[i])] = pads[i];
    ends[static_cast<size_t>(axes[i])] = pads[i + axes.size()];
  }
  return outs(pad(x, begins, ends, mode, value));
});

}  // namespace
}  // namespace dlt::onnx_import
