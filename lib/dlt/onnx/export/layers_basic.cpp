// ONNX export of the structural and elementwise layers: Sequential,
// Residual, Linear, Embedding, Flatten, Reshape, the activations, Softmax /
// LogSoftmax; Dropout and Identity export as nothing (eval mode).
#include "dlt/nn/layers/activation.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/flatten.h"
#include "dlt/nn/layers/leaky_relu.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/reshape.h"
#include "dlt/nn/layers/residual.h"
#include "dlt/nn/layers/softmax.h"
#include "dlt/onnx/export/blocks.h"

namespace dlt::onnx_export {

namespace {

// Children "0", "1", ... in order (also dlt's other containers of type
// Sequential: transformer stacks, ResNet stages).
Value export_sequential(ExportContext& ctx, nn::Module& m, const Value& x) {
  Value y = x;
  for (const auto& [name, layer] : m.children()) y = ctx.run(*layer, name, y);
  return y;
}

// body(x) + x, or body(x) + projection(x).
Value export_residual(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& r = dynamic_cast<nn::Residual&>(m);
  const Value body = ctx.run(*r.body, "body", x);
  const Value skip = r.projection ? ctx.run(*r.projection, "projection", x) : x;
  return binary(ctx, "Add", body, skip);
}

// Eval mode: Dropout is the identity; no node.
Value export_identity(ExportContext&, nn::Module&, const Value& x) { return x; }

Value export_linear(ExportContext& ctx, nn::Module& m, const Value& x) {
  return linear(ctx, dynamic_cast<nn::Linear&>(m), x);
}

// Gather(weight (V, C), ids (B, *), axis 0) -> (B, *, C).
Value export_embedding(ExportContext& ctx, nn::Module& m, const Value& ids) {
  auto& e = dynamic_cast<nn::Embedding&>(m);
  Shape out = ids.shape;
  out.push_back(e.options.dim);
  return {ctx.g.add("Gather", {ctx.param(e.weight), ids.name}, {attr("axis", int64_t(0))}), out};
}

// ONNX's Reshape target: 0 keeps a dim, -1 infers the one dynamic dim.
Value reshape_dims(ExportContext& ctx, const Value& x, size_t keep, const Shape& rest) {
  std::vector<int64_t> target(keep, 0);
  Shape out(x.shape.begin(), x.shape.begin() + int64_t(keep));
  int dynamic = 0;
  for (int64_t d : rest) {
    target.push_back(is_symbolic(d) ? -1 : d);
    out.push_back(d);
    dynamic += is_symbolic(d);
  }
  if (dynamic > 1)
    ctx.fail(fmt::format("the new shape {} has more than one dynamic dim", shape_str(out)));
  return reshape(ctx, x, target, out);
}

// Dims start..end merged: Reshape with the leading dims kept (0), the merged
// one's size (or -1 when it holds a dynamic dim) and the trailing sizes.
Value export_flatten(ExportContext& ctx, nn::Module& m, const Value& x) {
  const auto& o = dynamic_cast<nn::Flatten&>(m).options;
  const int64_t n = x.rank();
  const int64_t start = o.start_dim < 0 ? o.start_dim + n : o.start_dim;
  const int64_t end = o.end_dim < 0 ? o.end_dim + n : o.end_dim;
  for (int64_t i = start; i <= end && end > start; ++i)
    if (x.shape[size_t(i)] == kSeqDim) ctx.needs_fixed_sequence();
  // A dynamic dim times sizes is dynamic: the dim itself when the sizes are 1.
  int64_t sizes = 1;
  std::vector<int64_t> dynamic;
  for (int64_t i = start; i <= end; ++i) {
    const int64_t d = x.shape[size_t(i)];
    if (is_symbolic(d)) dynamic.push_back(d);
    else sizes *= d;
  }
  const int64_t merged = dynamic.empty()                     ? sizes
                         : dynamic.size() == 1 && sizes == 1 ? dynamic[0]
                                                             : kUnknownDim;
  Shape rest{merged};
  rest.insert(rest.end(), x.shape.begin() + end + 1, x.shape.end());
  return reshape_dims(ctx, x, size_t(start), rest);
}

// (B, *) -> (B, *shape), the batch kept and shape's -1 inferred.
Value export_reshape(ExportContext& ctx, nn::Module& m, const Value& x) {
  const auto& r = dynamic_cast<nn::Reshape&>(m);
  bool dynamic_input = false;
  for (size_t i = 1; i < x.shape.size(); ++i) {
    if (x.shape[i] == kSeqDim) ctx.needs_fixed_sequence();
    dynamic_input |= is_symbolic(x.shape[i]);
  }
  std::vector<int64_t> target{0};
  Shape out{x.shape[0]};
  for (size_t i = 0; i < r.options.shape.size(); ++i) {
    target.push_back(r.options.shape[i]);
    // -1 is the layer's inferred size, unknown until run time when the input's is.
    out.push_back(r.options.shape[i] == -1 && dynamic_input ? kUnknownDim : r.output_shape()[i]);
  }
  return reshape(ctx, x, target, out);
}

Value export_activation(ExportContext& ctx, nn::Module& m, const Value& x) {
  switch (dynamic_cast<nn::Activation&>(m).kind) {
    case nn::ActivationKind::relu: return unary(ctx, "Relu", x);
    case nn::ActivationKind::gelu: return gelu(ctx, x, false);
    case nn::ActivationKind::gelu_tanh: return gelu(ctx, x, true);
    case nn::ActivationKind::silu: return silu(ctx, x);
    case nn::ActivationKind::tanh: return unary(ctx, "Tanh", x);
    case nn::ActivationKind::sigmoid: return unary(ctx, "Sigmoid", x);
  }
  ctx.fail("unknown activation kind");
}

Value export_leaky_relu(ExportContext& ctx, nn::Module& m, const Value& x) {
  const double slope = dynamic_cast<nn::LeakyReLU&>(m).options.negative_slope;
  return unary(ctx, "LeakyRelu", x, {attr("alpha", slope)});
}

// Softmax / LogSoftmax (opset 13: over the one axis), dim counted with the batch as ONNX's axis.
Value export_softmax(ExportContext& ctx, nn::Module& m, const Value& x) {
  const auto& o = dynamic_cast<nn::Softmax&>(m).options;
  return unary(ctx, o.log ? "LogSoftmax" : "Softmax", x, {attr("axis", o.dim)});
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(Sequential, export_sequential);
DLT_REGISTER_LAYER_EXPORT(Residual, export_residual);
DLT_REGISTER_LAYER_EXPORT(Dropout, export_identity);
DLT_REGISTER_LAYER_EXPORT(Identity, export_identity);
DLT_REGISTER_LAYER_EXPORT(Linear, export_linear);
DLT_REGISTER_LAYER_EXPORT(Embedding, export_embedding);
DLT_REGISTER_LAYER_EXPORT(Flatten, export_flatten);
DLT_REGISTER_LAYER_EXPORT(Reshape, export_reshape);
DLT_REGISTER_LAYER_EXPORT(ReLU, export_activation);
DLT_REGISTER_LAYER_EXPORT(GELU, export_activation);
DLT_REGISTER_LAYER_EXPORT(SiLU, export_activation);
DLT_REGISTER_LAYER_EXPORT(Tanh, export_activation);
DLT_REGISTER_LAYER_EXPORT(Sigmoid, export_activation);
DLT_REGISTER_LAYER_EXPORT(LeakyReLU, export_leaky_relu);
DLT_REGISTER_LAYER_EXPORT(Softmax, export_softmax);
DLT_REGISTER_LAYER_EXPORT(LogSoftmax, export_softmax);

}  // namespace dlt::onnx_export
