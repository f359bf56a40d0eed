// ONNX export of MultiHeadAttention and TransformerBlock: attention as
// MatMul / Softmax with the causal mask (no fused op exists at opset 17),
// heads split and merged with Reshape / Transpose that keep B and T dynamic.
#include "dlt/nn/layers/multihead_attention.h"
#include "dlt/nn/layers/transformer_block.h"
#include "dlt/onnx/export/blocks.h"

namespace dlt::onnx_export {

namespace {

// x (B, T, C) -> proj(attention(q, k, v)) (B, T, C), q, k and v (B, H, T, D)
// taken from the packed qkv projection (B, T, 3, H, D). No key padding mask:
// a model built from YAML has none.
Value export_multihead_attention(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& a = dynamic_cast<nn::MultiHeadAttention&>(m);
  const int64_t c = a.embed_dim, h = a.options.heads, d = c / h;
  const int64_t b = x.shape[0], t = x.shape[1];
  if (a.options.causal && is_symbolic(t) && ctx.max_positions <= 0)
    ctx.fail("a causal attention over a sequence of dynamic length needs the longest length");
  const Value qkv = ctx.run_child(a, "qkv", x);
  const Value packed = transpose(ctx, reshape(ctx, qkv, {0, 0, 3, h, d}, {b, t, 3, h, d}),
                                 {2, 0, 3, 1, 4});  // (3, B, H, T, D)
  const auto part = [&](int64_t i) {
    return Value{
        ctx.g.add("Gather", {packed.name, ctx.g.int_scalar(i)}, {attr("axis", int64_t(0))}),
        {b, h, t, d}};
  };
  const Value heads = attention(ctx, part(0), part(1), part(2), a.options.causal,
                                is_symbolic(t) ? ctx.max_positions : t, /*scale_queries=*/true);
  // (B, H, T, D) -> (B, T, H, D) -> (B, T, C): the heads side by side again.
  const Value merged = reshape(ctx, transpose(ctx, heads, {0, 2, 1, 3}), {0, 0, c}, {b, t, c});
  return ctx.run_child(a, "proj", merged);
}

// x + attn(ln1(x)), then h + mlp(ln2(h)) with mlp = proj(gelu(fc(h))).
Value export_transformer_block(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& block = dynamic_cast<nn::TransformerBlock&>(m);
  const Value h =
      binary(ctx, "Add", x, ctx.run_child(block, "attn", ctx.run_child(block, "ln1", x)));
  const Value normed = ctx.run_child(block, "ln2", h);
  auto& mlp = child<nn::Module>(block, "mlp");
  const Value out = ctx.part("mlp", mlp.type(), [&] {
    const Value hidden = gelu(ctx, ctx.run_child(mlp, "fc", normed), block.options.gelu_tanh);
    return ctx.run_child(mlp, "proj", hidden);
  });
  return binary(ctx, "Add", h, out);
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(MultiHeadAttention, export_multihead_attention);
DLT_REGISTER_LAYER_EXPORT(TransformerBlock, export_transformer_block);

}  // namespace dlt::onnx_export
