// ONNX's network ops: MatMul, Gemm, Conv, ConvTranspose, pools, the
// normalisations, Softmax, Dropout (inference).
#include <limits>
#include <numeric>

#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/import/padding.h"
#include "dlt/onnx/import/window.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

DLT_ONNX_OP(MatMul, [](NodeContext& n) { return outs(matmul(n.input(0), n.input(1))); });

DLT_ONNX_OP(Gemm, [](NodeContext& n) {
  // Y (M, N) = alpha A' B' + beta C, A' = A or A^T, B' = B or B^T, C broadcast.
  Tensor a = n.input(0), b = n.input(1);
  if (n.attr_int("transA", 0)) a = a.t();
  if (n.attr_int("transB", 0)) b = b.t();
  Tensor y = matmul(a, b);
  const double alpha = n.attr_float("alpha", 1.0), beta = n.attr_float("beta", 1.0);
  if (alpha != 1.0) y = y * alpha;
  if (n.has_input(2) && beta != 0.0) y = add(y, beta == 1.0 ? n.input(2) : n.input(2) * beta);
  return outs(y);
});

// A per-channel vector (C) shaped to broadcast over (N, C, *) of `rank`.
Tensor per_channel(const Tensor& v, int64_t rank) {
  Shape shape(static_cast<size_t>(rank), 1);
  shape[1] = v.numel();
  return v.reshape(shape);
}

// Pads x's spatial dims (N, C, *) by the window's pads with `value`.
Tensor pad_spatial(const Tensor& x, const Window& w, double value) {
  std::vector<int64_t> begins{0, 0}, ends{0, 0};
  begins.insert(begins.end(), w.begins.begin(), w.begins.end());
  ends.insert(ends.end(), w.ends.begin(), w.ends.end());
  return pad(x, begins, ends, "constant", value);
}

DLT_ONNX_OP(Conv, [](NodeContext& n) {
  Tensor x = n.input(0);
  const Tensor& weight = n.input(1);  // (M, C / group, k...)
  const int64_t rank = x.dim() - 2;
  check_spatial_rank(n, rank);
  Window w = window_of(n, Shape(x.shape().begin() + 2, x.shape().end()),
                       std::vector<int64_t>(weight.shape().begin() + 2, weight.shape().end()));
  if (!w.symmetric()) {  // dlt's kernel pads both sides alike: pad here instead
    x = pad_spatial(x, w, 0);
    w.begins.assign(w.begins.size(), 0);
  }
  const Tensor bias = n.has_input(2) ? n.input(2) : Tensor();
  const Tensor y = conv2d(as_2d(x), as_2d(weight), bias, pair_of(w.strides, 1), pair_of(w.begins, 0),
                          pair_of(w.dilations, 1), n.attr_int("group", 1));
  return outs(from_2d(y, rank));
});

DLT_ONNX_OP(ConvTranspose, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const Tensor& weight = n.input(1);  // (C, M / group, k...)
  const int64_t rank = x.dim() - 2;
  check_spatial_rank(n, rank);
  const auto r = static_cast<size_t>(rank);
  const auto kernel = n.attr_ints("kernel_shape", std::vector<int64_t>(weight.shape().begin() + 2, weight.shape().end()));
  const auto strides = n.attr_ints("strides", std::vector<int64_t>(r, 1));
  const auto dilations = n.attr_ints("dilations", std::vector<int64_t>(r, 1));
  const auto output_padding = n.attr_ints("output_padding", std::vector<int64_t>(r, 0));
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  // The full transposed convolution, then each spatial dim cut to
  // [begin, begin + out) of it (zeros past its end, as ONNX's output_padding).
  std::vector<int64_t> begins(r, 0), outs_size(r);
  std::vector<int64_t> full(r);
  for (size_t i = 0; i < r; ++i)
    full[i] = strides[i] * (x.size(static_cast<int64_t>(i) + 2) - 1) + (kernel[i] - 1) * dilations[i] + 1;
  const bool has_pads = n.has_attr("pads") && auto_pad == "NOTSET";
  std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  std::vector<int64_t> output_shape;
  if (n.has_attr("output_shape")) {
    output_shape = n.attr_ints("output_shape");
    if (output_shape.size() == r + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  }
  for (size_t i = 0; i < r; ++i) {
    if (!has_pads && (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")) {
      const int64_t target = output_shape.empty() ? x.size(static_cast<int64_t>(i) + 2) * strides[i] : output_shape[i];
      const int64_t total = full[i] + output_padding[i] - target;  // may be negative
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor(total / 2)
      begins[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      outs_size[i] = target;
    } else {
      begins[i] = pads[i];
      outs_size[i] = output_shape.empty() ? full[i] + output_padding[i] - pads[i] - pads[i + r] : output_shape[i];
    }
  }
  Tensor y = from_2d(conv_transpose2d(as_2d(x), as_2d(weight), Tensor(), pair_of(strides, 1), {0, 0},
                                      {0, 0}, pair_of(dilations, 1), n.attr_int("group", 1)),
                     rank);
  std::vector<int64_t> pb{0, 0}, pe{0, 0};
  for (size_t i = 0; i < r; ++i) {
    pb.push_back(-begins[i]);
    pe.push_back(outs_size[i] + begins[i] - full[i]);
  }
  y = pad(y, pb, pe);
  if (n.has_input(2)) {
    y = add(y, per_channel(n.input(2), y.dim()));
  }
  return outs(y);
});

DLT_ONNX_OP(MaxPool, [](NodeContext& n) {
  DLT_ONNX_SUPPORTED(!n.wants_output(1), "{}: the Indices output", n.where());
  DLT_ONNX_SUPPORTED(n.attr_int("storage_order", 0) == 0, "{}: storage_order 1", n.where());
  Tensor x = n.input(0);
  const int64_t rank = x.dim() - 2;
  check_spatial_rank(n, rank);
  Window w = window_of(n, Shape(x.shape().begin() + 2, x.shape().end()), {});
  const bool ceil_mode = n.attr_int("ceil_mode", 0);
  if (!w.pool_pads_fit()) {
    x = pad_spatial(x, w, -std::numeric_limits<double>::infinity());
    w.begins.assign(w.begins.size(), 0);
  }
  // dlt pools floats: integers go through float64, which holds them exactly.
  const DType dtype = x.dtype();
  const Tensor in = is_floating(dtype) ? x : x.to(DType::f64);
  const Tensor y = max_pool2d(as_2d(in), pair_of(w.kernel, 1), pair_of(w.strides, 1),
                              pair_of(w.begins, 0), pair_of(w.dilations, 1), ceil_mode);
  return outs(from_2d(y, rank).to(dtype));
});

DLT_ONNX_OP(AveragePool, [](NodeContext& n) {
  Tensor x = n.input(0);
  const int64_t rank = x.dim() - 2;
  check_spatial_rank(n, rank);
  Window w = window_of(n, Shape(x.shape().begin() + 2, x.shape().end()), {});
  DLT_ONNX_SUPPORTED(std::all_of(w.dilations.begin(), w.dilations.end(), [](int64_t d) { return d == 1; }),
                     "{}: dilations other than 1", n.where());
  const bool ceil_mode = n.attr_int("ceil_mode", 0);
  const bool include_pad = n.attr_int("count_include_pad", 0);  // ONNX's default, unlike torch's
  const auto pool = [&](const Tensor& t, const Window& win, bool count_pad) {
    return from_2d(avg_pool2d(as_2d(t), pair_of(win.kernel, 1), pair_of(win.strides, 1),
                              pair_of(win.begins, 0), ceil_mode, count_pad), rank);
  };
  if (w.pool_pads_fit()) return outs(pool(x, w, include_pad));
  Window unpadded = w;
  unpadded.begins.assign(w.begins.size(), 0);
  const Tensor sums = pool(pad_spatial(x, w, 0), unpadded, true);
  if (include_pad) return outs(sums);
  // Averages over the input's positions only: the same pool of a mask.
  const Tensor mask = pool(pad_spatial(ones_like(x), w, 0), unpadded, true);
  return outs(div(sums, mask));
});

std::vector<Tensor> global_pool(NodeContext& n, bool average) {
  const Tensor& x = n.input(0);
  Shape spatial(static_cast<size_t>(x.dim() - 2));
  std::iota(spatial.begin(), spatial.end(), 2);
  return outs(average ? mean(x, spatial, true) : amax(x, spatial, true));
}
DLT_ONNX_OP(GlobalAveragePool, [](NodeContext& n) { return global_pool(n, true); });
DLT_ONNX_OP(GlobalMaxPool, [](NodeContext& n) { return global_pool(n, false); });

DLT_ONNX_OP(BatchNormalization, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const int64_t r = x.dim();
  const double eps = n.attr_float("epsilon", 1e-5), momentum = n.attr_float("momentum", 0.9);
  const bool training = n.opset() >= 14 && n.attr_int("training_mode", 0);
  Tensor mu = n.input(3), var = n.input(4);
  std::vector<Tensor> results(1);
  if (training) {
    // Batch statistics (biased variance) and the updated running ones.
    Shape dims{0};
    for (int64_t d = 2; d < r; ++d) dims.push_back(d);
    const Tensor batch_mean = mean(x, dims), batch_var = ::dlt::var(x, dims, 0);
    results.push_back(mu * momentum + batch_mean * (1 - momentum));
    results.push_back(var * momentum + batch_var * (1 - momentum));
    mu = batch_mean;
    var = batch_var;
  }
  const Tensor scale = per_channel(n.input(1), r) * rsqrt(per_channel(var, r) + eps);
  results[0] = (x - per_channel(mu, r)) * scale + per_channel(n.input(2), r);
  return results;
});

DLT_ONNX_OP(InstanceNormalization, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  Shape spatial(static_cast<size_t>(x.dim() - 2));
  std::iota(spatial.begin(), spatial.end(), 2);
  const Tensor mu = mean(x, spatial, true), centred = x - mu;
  const Tensor inv = rsqrt(mean(centred * centred, spatial, true) + n.attr_float("epsilon", 1e-5));
  return outs(centred * inv * per_channel(n.input(1), x.dim()) + per_channel(n.input(2), x.dim()));
});

// The dtype statistics are computed in: float32 for stash_type 1 (the default).
DType stash_dtype(const NodeContext& n, const Tensor& x) {
  return n.attr_int("stash_type", 1) == 1 ? DType::f32 : x.dtype();
}

// The dims a LayerNormalization or RMSNormalization normalises: from its
// axis attribute (default -1) to the last.
Shape normalized_dims(const NodeContext& n, const Tensor& x) {
  const int64_t axis = wrap_axis(n.attr_int("axis", -1), x.dim(), n);
  Shape dims(static_cast<size_t>(x.dim() - axis));
  std::iota(dims.begin(), dims.end(), axis);
  return dims;
}

DLT_ONNX_OP(LayerNormalization, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const Shape dims = normalized_dims(n, x);
  const Tensor xs = x.to(stash_dtype(n, x));
  const Tensor mu = mean(xs, dims, true), centred = xs - mu;
  const Tensor inv_std = rsqrt(mean(centred * centred, dims, true) + n.attr_float("epsilon", 1e-5));
  Tensor y = (centred * inv_std).to(x.dtype()) * n.input(1);
  if (n.has_input(2)) y = y + n.input(2);
  return std::vector<Tensor>{y, mu, inv_std};
});

DLT_ONNX_OP(RMSNormalization, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const Shape dims = normalized_dims(n, x);
  const Tensor xs = x.to(stash_dtype(n, x));
  const Tensor inv_rms = rsqrt(mean(xs * xs, dims, true) + n.attr_float("epsilon", 1e-5));
  return outs((xs * inv_rms).to(x.dtype()) * n.input(1));
});

DLT_ONNX_OP(GroupNormalization, [](NodeContext& n) {
  const Tensor& x = n.input(0);  // (N, C, *)
  const int64_t groups = n.attr_int("num_groups"), c = x.size(1);
  DLT_CHECK(groups >= 1 && c % groups == 0, "{}: num_groups {} does not divide {} channels", n.where(),
            groups, c);
  const Tensor xs = x.to(stash_dtype(n, x));
  const Tensor g = xs.reshape({x.size(0), groups, -1});  // (N, G, C / G * spatial)
  const Tensor mu = mean(g, {2}, true), centred = g - mu;
  const Tensor inv = rsqrt(mean(centred * centred, {2}, true) + n.attr_float("epsilon", 1e-5));
  const Tensor y = (centred * inv).reshape(x.shape()).to(x.dtype());
  // Opset 18 gives scale and bias per group, 21 per channel.
  const auto channel = [&](const Tensor& v) {
    return v.numel() == c ? v : v.reshape({groups, 1}).expand({groups, c / groups}).reshape({c});
  };
  return outs(y * per_channel(channel(n.input(1)), x.dim()) + per_channel(channel(n.input(2)), x.dim()));
});

// Softmax-like ops over `axis`; before opset 13 over the flattened trailing
// dims from `axis` (default 1), since 13 over one axis (default -1).
template <class F>
std::vector<Tensor> softmax_like(NodeContext& n, F f) {
  const Tensor& x = n.input(0);
  if (n.opset() >= 13) return outs(f(x, wrap_axis(n.attr_int("axis", -1), x.dim(), n)));
  const int64_t axis = wrap_axis(n.attr_int("axis", 1), x.dim(), n);
  const Tensor flat = x.reshape({numel_of(Shape(x.shape().begin(), x.shape().begin() + axis)), -1});
  return outs(f(flat, 1).reshape(x.shape()));
}
DLT_ONNX_OP(Softmax, [](NodeContext& n) {
  return softmax_like(n, [](const Tensor& x, int64_t axis) { return softmax(x, axis); });
});
DLT_ONNX_OP(LogSoftmax, [](NodeContext& n) {
  return softmax_like(n, [](const Tensor& x, int64_t axis) { return log_softmax(x, axis); });
});
DLT_ONNX_OP(Hardmax, [](NodeContext& n) {
  return softmax_like(n, [](const Tensor& x, int64_t axis) {
    // One-hot of the first maximum along axis.
    const Tensor first = argmax(x, axis, true);
    Shape shape(static_cast<size_t>(x.dim()), 1);
    shape[static_cast<size_t>(axis)] = x.size(axis);
    const Tensor positions = arange(x.size(axis), TensorOptions(DType::i64).device(x.device())).reshape(shape);
    return eq(positions, first).to(x.dtype());
  });
});

DLT_ONNX_OP(Dropout, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  const double ratio = n.opset() < 12 ? n.attr_float("ratio", 0.5) : (n.has_input(1) ? n.input_scalar(1) : 0.5);
  const bool training = n.opset() >= 12 && n.has_input(2) && n.input_scalar(2) != 0;
  DLT_ONNX_SUPPORTED(!training || ratio == 0, "{}: training-mode dropout (random masks)", n.where());
  std::vector<Tensor> results{x};
  if (n.wants_output(1)) results.push_back(ones(x.shape(), TensorOptions(DType::boolean).device(x.device())));
  return results;
});

}  // namespace
}  // namespace dlt::onnx_import
