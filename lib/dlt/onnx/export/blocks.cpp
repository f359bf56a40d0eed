#include "dlt/onnx/export/blocks.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/rms_norm.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_export {

namespace {

// numpy's broadcasting over the bookkeeping dims: a symbolic dim meets 1 or itself.
Shape broadcast(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[out.size() - 1 - i] = da == db           ? da
                              : da == 1          ? db
                              : db == 1          ? da
                              : !is_symbolic(da) ? da
                              : !is_symbolic(db) ? db
                                                 : kUnknownDim;
  }
  return out;
}

// The trailing `k` axes, as negative axes.
std::vector<int64_t> trailing_axes(size_t k) {
  std::vector<int64_t> axes;
  for (int64_t i = -int64_t(k); i < 0; ++i) axes.push_back(i);
  return axes;
}

// ones(shape) of the model's dtype, shared by shape: a LayerNormalization's
// scale when the layer has no weight.
std::string ones_constant(ExportContext& ctx, const Shape& shape) {
  return ctx.g.constant(fmt::format("const.ones.{}", fmt::join(shape, "x")),
                        ones(shape, TensorOptions(ctx.dtype)));
}

Value reduce_mean(ExportContext& ctx, const Value& x, const std::vector<int64_t>& axes) {
  Shape out = x.shape;
  for (int64_t a : axes) out[size_t(a < 0 ? a + x.rank() : a)] = 1;
  return {ctx.g.add("ReduceMean", {x.name}, {attr("axes", axes), attr("keepdims", int64_t(1))}),
          out};
}

}  // namespace

Value unary(ExportContext& ctx, const std::string& op, const Value& x, Attrs attrs) {
  return {ctx.g.add(op, {x.name}, std::move(attrs)), x.shape};
}

Value binary(ExportContext& ctx, const std::string& op, const Value& a, const Value& b) {
  return {ctx.g.add(op, {a.name, b.name}), broadcast(a.shape, b.shape)};
}

Value scalar(ExportContext& ctx, double v) { return {ctx.scalar(v), {}}; }

Value matmul(ExportContext& ctx, const Value& a, const Value& b) {
  Shape out = broadcast(Shape(a.shape.begin(), a.shape.end() - 2),
                        Shape(b.shape.begin(), b.shape.end() - 2));
  out.push_back(a.shape[a.shape.size() - 2]);
  out.push_back(b.shape.back());
  return {ctx.g.add("MatMul", {a.name, b.name}), out};
}

Value reshape(ExportContext& ctx, const Value& x, const std::vector<int64_t>& target, Shape out) {
  return {ctx.g.add("Reshape", {x.name, ctx.g.ints(target)}), std::move(out)};
}

Value transpose(ExportContext& ctx, const Value& x, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[size_t(p)]);
  return {ctx.g.add("Transpose", {x.name}, {attr("perm", perm)}), out};
}

Value unsqueeze(ExportContext& ctx, const Value& x, const std::vector<int64_t>& axes) {
  Shape out = x.shape;
  for (int64_t a : axes) out.insert(out.begin() + a, 1);  // axes ascending, non-negative
  return {ctx.g.add("Unsqueeze", {x.name, ctx.g.ints(axes)}), out};
}

std::string runtime_dim(ExportContext& ctx, const Value& x, int64_t axis) {
  const std::string shape = ctx.g.add("Shape", {x.name});
  return ctx.g.add("Gather", {shape, ctx.g.ints({axis})}, {attr("axis", int64_t(0))});
}

std::string first_rows(ExportContext& ctx, const std::string& table, const std::string& n,
                       int64_t axis) {
  return ctx.g.add("Slice", {table, ctx.g.ints({0}), n, ctx.g.ints({axis})});
}

Value linear(ExportContext& ctx, nn::Linear& layer, const Value& x) {
  const std::string w = ctx.param(layer.weight);
  const int64_t out = layer.options.out;
  if (x.rank() == 2) {  // (B, in): one Gemm, C = the bias
    std::vector<std::string> in{x.name, w};
    if (layer.bias.defined()) in.push_back(ctx.param(layer.bias));
    return {ctx.g.add("Gemm", in, {attr("transB", int64_t(1))}), {x.shape[0], out}};
  }
  Value y = matmul_transposed(ctx, x, w, out);  // Gemm is 2-D only
  if (layer.bias.defined()) y = binary(ctx, "Add", y, {ctx.param(layer.bias), {out}});
  return y;
}

Value matmul_transposed(ExportContext& ctx, const Value& x, const std::string& weight,
                        int64_t rows) {
  const std::string wt =
      ctx.g.add("Transpose", {weight}, {attr("perm", std::vector<int64_t>{1, 0})});
  Shape out = x.shape;
  out.back() = rows;
  return {ctx.g.add("MatMul", {x.name, wt}), out};
}

Value layer_norm(ExportContext& ctx, nn::LayerNorm& layer, const Value& x) {
  const size_t k = layer.normalized_shape.size();
  const double eps = layer.options.eps;
  if (ctx.opset >= 17) {
    std::vector<std::string> in{x.name, layer.weight.defined()
                                            ? ctx.param(layer.weight)
                                            : ones_constant(ctx, layer.normalized_shape)};
    if (layer.bias.defined()) in.push_back(ctx.param(layer.bias));
    return {ctx.g.add("LayerNormalization", in, {attr("axis", -int64_t(k)), attr("epsilon", eps)}),
            x.shape};
  }
  // (x - mean) / sqrt(var + eps) over the trailing dims, var the biased one.
  const std::vector<int64_t> axes = trailing_axes(k);
  const Value centered = binary(ctx, "Sub", x, reduce_mean(ctx, x, axes));
  const Value var = reduce_mean(ctx, binary(ctx, "Mul", centered, centered), axes);
  const Value std = unary(ctx, "Sqrt", binary(ctx, "Add", var, scalar(ctx, eps)));
  Value y = binary(ctx, "Div", centered, std);
  if (layer.weight.defined())
    y = binary(ctx, "Mul", y, {ctx.param(layer.weight), layer.normalized_shape});
  if (layer.bias.defined())
    y = binary(ctx, "Add", y, {ctx.param(layer.bias), layer.normalized_shape});
  return y;
}

Value rms_norm(ExportContext& ctx, nn::RMSNorm& layer, const Value& x) {
  const Value mean_square =
      reduce_mean(ctx, binary(ctx, "Mul", x, x), trailing_axes(layer.normalized_shape.size()));
  const Value rms =
      unary(ctx, "Sqrt", binary(ctx, "Add", mean_square, scalar(ctx, layer.options.eps)));
  Value y = binary(ctx, "Mul", x, unary(ctx, "Reciprocal", rms));
  if (layer.weight.defined())
    y = binary(ctx, "Mul", y, {ctx.param(layer.weight), layer.normalized_shape});
  return y;
}

Value gelu(ExportContext& ctx, const Value& x, bool tanh) {
  Value inner;
  if (tanh) {  // tanh(sqrt(2 / pi) (x + 0.044715 x^3))
    const Value cube = binary(ctx, "Pow", x, scalar(ctx, 3.0));
    const Value sum = binary(ctx, "Add", x, binary(ctx, "Mul", cube, scalar(ctx, 0.044715)));
    inner =
        unary(ctx, "Tanh", binary(ctx, "Mul", sum, scalar(ctx, std::sqrt(2.0 / std::numbers::pi))));
  } else {  // erf(x / sqrt 2)
    inner = unary(ctx, "Erf", binary(ctx, "Mul", x, scalar(ctx, 1.0 / std::numbers::sqrt2)));
  }
  const Value gate = binary(ctx, "Add", inner, scalar(ctx, 1.0));
  return binary(ctx, "Mul", binary(ctx, "Mul", x, gate), scalar(ctx, 0.5));
}

Value silu(ExportContext& ctx, const Value& x) {
  return binary(ctx, "Mul", x, unary(ctx, "Sigmoid", x));
}

namespace {

// Scores (B, ..., T, T) with the future keys' set to -inf. The mask is the
// constant "causal_mask" (true above the diagonal): T x T when T is known at
// export, else max_len x max_len with its first T rows and columns taken at
// run time.
Value mask_future(ExportContext& ctx, const Value& scores, int64_t max_len) {
  const int64_t t = scores.shape.back();
  const int64_t n = is_symbolic(t) ? max_len : t;
  const std::string table =
      ctx.g.constant("causal_mask", triu(ones({n, n}, TensorOptions(DType::boolean)), 1));
  std::string mask = table;
  if (is_symbolic(t)) {
    const std::string len = runtime_dim(ctx, scores, scores.rank() - 1);
    const std::string ends = ctx.g.add("Concat", {len, len}, {attr("axis", int64_t(0))});
    mask = ctx.g.add("Slice", {table, ctx.g.ints({0, 0}), ends, ctx.g.ints({0, 1})});
  }
  const std::string minus_inf = ctx.scalar(-std::numeric_limits<double>::infinity());
  return {ctx.g.add("Where", {mask, minus_inf, scores.name}), scores.shape};
}

}  // namespace

Value attention(ExportContext& ctx, const Value& queries, const Value& k, const Value& v,
                bool causal, int64_t max_len, bool scale_queries) {
  const int64_t heads = queries.shape[1], kv_heads = k.shape[1], d = queries.shape[3];
  const Value s = scalar(ctx, 1.0 / std::sqrt(double(d)));
  const Value q = scale_queries ? binary(ctx, "Mul", queries, s) : queries;
  const auto scaled = [&](const Value& scores) {
    return scale_queries ? scores : binary(ctx, "Mul", scores, s);
  };
  const auto weights = [&](const Value& scores) {  // softmax over the keys
    const Value masked = causal ? mask_future(ctx, scores, max_len) : scores;
    return unary(ctx, "Softmax", masked, {attr("axis", int64_t(-1))});
  };
  if (kv_heads == heads) {
    const Value scores = scaled(matmul(ctx, q, transpose(ctx, k, {0, 1, 3, 2})));
    return matmul(ctx, weights(scores), v);  // (B, H, T, D)
  }
  // Groups: q (B, Hkv, G, T, D) against k^T (B, Hkv, 1, D, T), broadcast over G.
  const int64_t g = heads / kv_heads;
  const Value q5 =
      reshape(ctx, q, {0, kv_heads, g, -1, d}, {q.shape[0], kv_heads, g, q.shape[2], d});
  const Value kt = transpose(ctx, unsqueeze(ctx, k, {2}), {0, 1, 2, 4, 3});
  const Value scores = scaled(matmul(ctx, q5, kt));                         // (B, Hkv, G, T, T)
  const Value out5 = matmul(ctx, weights(scores), unsqueeze(ctx, v, {2}));  // (B, Hkv, G, T, D)
  return reshape(ctx, out5, {0, heads, -1, d}, q.shape);
}

}  // namespace dlt::onnx_export
