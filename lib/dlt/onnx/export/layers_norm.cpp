// ONNX export of the normalisation layers: BatchNorm1d/2d
// (BatchNormalization with the running statistics: eval mode), LayerNorm
// (LayerNormalization, decomposed below opset 17), RMSNorm and GroupNorm
// (decomposed: no ONNX op before opsets 23 and 18).
#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/group_norm.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/rms_norm.h"
#include "dlt/onnx/export/blocks.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_export {

namespace {

// A per-channel constant (C) of the model's dtype, for a layer without affine parameters.
std::string channels_constant(ExportContext& ctx, const char* what, int64_t c, double value) {
  return ctx.g.constant(fmt::format("const.{}.{}", what, c),
                        full({c}, value, TensorOptions(ctx.dtype)));
}

// (x - running_mean) / sqrt(running_var + eps) * weight + bias; the buffer
// num_batches_tracked is not used.
Value export_batch_norm(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& bn = dynamic_cast<nn::BatchNorm&>(m);
  const int64_t c = bn.num_features;
  const std::string scale =
      bn.weight.defined() ? ctx.param(bn.weight) : channels_constant(ctx, "ones", c, 1);
  const std::string bias =
      bn.bias.defined() ? ctx.param(bn.bias) : channels_constant(ctx, "zeros", c, 0);
  return {ctx.g.add("BatchNormalization",
                    {x.name, scale, bias, ctx.param(bn.running_mean), ctx.param(bn.running_var)},
                    {attr("epsilon", bn.options.eps)}),
          x.shape};
}

Value export_layer_norm(ExportContext& ctx, nn::Module& m, const Value& x) {
  return layer_norm(ctx, dynamic_cast<nn::LayerNorm&>(m), x);
}

Value export_rms_norm(ExportContext& ctx, nn::Module& m, const Value& x) {
  return rms_norm(ctx, dynamic_cast<nn::RMSNorm&>(m), x);
}

// x (B, C, *) as (B, G, C / G * S) normalised over its last dim, back to
// x's shape, then weight and bias per channel (unsqueezed to (C, 1, ...)).
Value export_group_norm(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& gn = dynamic_cast<nn::GroupNorm&>(m);
  const int64_t groups = gn.options.num_groups;
  const Value rows = reshape(ctx, x, {0, groups, -1}, {x.shape[0], groups, kUnknownDim});
  const auto mean = [&](const Value& v) {
    return Value{ctx.g.add("ReduceMean", {v.name},
                           {attr("axes", std::vector<int64_t>{2}), attr("keepdims", int64_t(1))}),
                 {v.shape[0], groups, 1}};
  };
  const Value centered = binary(ctx, "Sub", rows, mean(rows));
  const Value var = mean(binary(ctx, "Mul", centered, centered));
  const Value normed =
      binary(ctx, "Div", centered,
             unary(ctx, "Sqrt", binary(ctx, "Add", var, scalar(ctx, gn.options.eps))));
  Value y{ctx.g.add("Reshape", {normed.name, ctx.g.add("Shape", {x.name})}), x.shape};
  if (!gn.options.affine) return y;
  std::vector<int64_t> axes;  // (C) -> (C, 1, ...): one 1 per dim after the channels
  for (int64_t a = 1; a < x.rank() - 1; ++a) axes.push_back(a);
  const auto per_channel = [&](const Tensor& t) {
    const Value p{ctx.param(t), {gn.channels}};
    return axes.empty() ? p : unsqueeze(ctx, p, axes);
  };
  return binary(ctx, "Add", binary(ctx, "Mul", y, per_channel(gn.weight)), per_channel(gn.bias));
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(BatchNorm1d, export_batch_norm);
DLT_REGISTER_LAYER_EXPORT(BatchNorm2d, export_batch_norm);
DLT_REGISTER_LAYER_EXPORT(LayerNorm, export_layer_norm);
DLT_REGISTER_LAYER_EXPORT(RMSNorm, export_rms_norm);
DLT_REGISTER_LAYER_EXPORT(GroupNorm, export_group_norm);

}  // namespace dlt::onnx_export
