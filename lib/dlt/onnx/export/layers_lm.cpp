// ONNX export of the language models: GPT and Llama. Token ids (B, T) ->
// logits (B, T, V) with B and T dynamic (T up to block_size): positions and
// masks are cut from block_size-long constants at run time. A tied output
// weight is the embedding's one initializer, multiplied through a Transpose.
#include "dlt/nn/layers/gpt.h"
#include "dlt/nn/layers/llama.h"
#include "dlt/onnx/export/blocks.h"

namespace dlt::onnx_export {

namespace {

// The output projection (B, T, C) -> (B, T, V) by its weight (V, C), which is
// the token embedding's when tied.
Value lm_head(ExportContext& ctx, nn::Module& model, const std::string& name, const Value& x,
              int64_t vocab) {
  auto& head = child<nn::Module>(model, name);
  return ctx.part(name, head.type(), [&] {
    return matmul_transposed(ctx, x, ctx.param(head.state_dict().at("weight")), vocab);
  });
}

// tok_emb(ids) + pos_emb.weight[:T], blocks, ln_f, head.
Value export_gpt(ExportContext& ctx, nn::Module& m, const Value& ids) {
  auto& gpt = dynamic_cast<nn::GPT&>(m);
  ctx.max_positions = gpt.options.block_size;
  const Value tokens = ctx.run_child(gpt, "tok_emb", ids);  // (B, T, C)
  auto& pos_emb = child<nn::Embedding>(gpt, "pos_emb");
  const Value positions = ctx.part("pos_emb", pos_emb.type(), [&] {  // rows 0 .. T - 1: (T, C)
    return Value{first_rows(ctx, ctx.param(pos_emb.weight), runtime_dim(ctx, ids, 1)),
                 {ids.shape[1], gpt.options.embed_dim}};
  });
  Value x = binary(ctx, "Add", tokens, positions);
  x = ctx.run_child(gpt, "blocks", x);
  x = ctx.run_child(gpt, "ln_f", x);
  return lm_head(ctx, gpt, "head", x, gpt.options.vocab_size);
}

// Rotary embeddings of x (B, T, heads, D) with cos and sin (T, 1, D / 2):
// each adjacent pair (x[2i], x[2i + 1]) rotated by its position's angle, as
// dlt's rotary_embedding. Even and odd features are strided slices; the
// rotated pairs are interleaved again by stacking and a reshape.
Value rotary(ExportContext& ctx, const Value& x, const std::string& cos, const std::string& sin) {
  const int64_t d = x.shape[3];
  Shape half = x.shape;
  half[3] = d / 2;
  const auto features = [&](int64_t first) {
    return Value{ctx.g.add("Slice", {x.name, ctx.g.ints({first}), ctx.g.ints({d}), ctx.g.ints({3}),
                                     ctx.g.ints({2})}),
                 half};
  };
  const Value even = features(0), odd = features(1);
  const Value c{cos, {x.shape[1], 1, d / 2}}, s{sin, {x.shape[1], 1, d / 2}};
  const Value rot_even =
      binary(ctx, "Sub", binary(ctx, "Mul", even, c), binary(ctx, "Mul", odd, s));
  const Value rot_odd = binary(ctx, "Add", binary(ctx, "Mul", even, s), binary(ctx, "Mul", odd, c));
  const Value pairs{
      ctx.g.add("Concat", {unsqueeze(ctx, rot_even, {4}).name, unsqueeze(ctx, rot_odd, {4}).name},
                {attr("axis", int64_t(4))}),
      {x.shape[0], x.shape[1], x.shape[2], d / 2, 2}};
  return reshape(ctx, pairs, {0, 0, x.shape[2], d}, x.shape);
}

struct LlamaTables {
  std::string cos, sin;  // (T, 1, D / 2) each
};

// wo(attention(rotary(wq x), rotary(wk x), wv x)) with Hkv key/value heads.
Value llama_attention(ExportContext& ctx, nn::Module& layer, const nn::LlamaOptions& o,
                      const LlamaTables& rotation, const Value& x) {
  const int64_t b = x.shape[0], t = x.shape[1], d = o.embed_dim / o.heads;
  const auto heads = [&](const char* name, int64_t n, bool rotate) {  // (B, T, n D) -> (B, n, T, D)
    Value y = reshape(ctx, ctx.run_child(layer, name, x), {0, 0, n, d}, {b, t, n, d});
    if (rotate) y = rotary(ctx, y, rotation.cos, rotation.sin);
    return transpose(ctx, y, {0, 2, 1, 3});
  };
  const Value q = heads("wq", o.heads, true), k = heads("wk", o.kv_heads, true),
              v = heads("wv", o.kv_heads, false);
  const Value out = attention(ctx, q, k, v, true, o.block_size, /*scale_queries=*/false);
  const Value merged =
      reshape(ctx, transpose(ctx, out, {0, 2, 1, 3}), {0, 0, o.heads * d}, {b, t, o.heads * d});
  return ctx.run_child(layer, "wo", merged);
}

// tok_embeddings, the blocks (x + attention(attention_norm(x)), then
// h + feed_forward(ffn_norm(h)), feed_forward = w2(silu(w1 h) * w3 h)), norm, output.
Value export_llama(ExportContext& ctx, nn::Module& m, const Value& ids) {
  auto& llama = dynamic_cast<nn::Llama&>(m);
  const nn::LlamaOptions& o = llama.options;
  ctx.max_positions = o.block_size;
  Value x = ctx.run_child(llama, "tok_embeddings", ids);  // (B, T, C)
  // cos and sin of every position up to block_size, as dlt computes them
  // (float64, then the model's dtype): constants, their first T rows taken.
  const int64_t d = o.embed_dim / o.heads;
  nn::RotaryTables tables(o.block_size, d, o.rope_theta);
  const auto [cos, sin] = tables.rows(0, o.block_size, ctx.dtype, Device::cpu());
  const std::string t = runtime_dim(ctx, ids, 1);
  const auto rows = [&](const char* name, const Tensor& table) {  // (T, 1, D / 2)
    const Value r{first_rows(ctx, ctx.g.constant(name, table), t), {ids.shape[1], d / 2}};
    return unsqueeze(ctx, r, {1}).name;
  };
  const LlamaTables rotation{rows("rotary.cos", cos), rows("rotary.sin", sin)};
  auto& layers = child<nn::LlamaLayers>(llama, "layers");
  x = ctx.part("layers", layers.type(), [&] {
    Value h = x;
    for (const auto& named_block : layers.children()) {  // not a structured binding: captured below
      const auto& block = named_block.second;
      h = ctx.part(named_block.first, block->type(), [&] {
        auto& attention = child<nn::Module>(*block, "attention");
        const Value normed = ctx.run_child(*block, "attention_norm", h);
        const Value a = ctx.part("attention", attention.type(), [&] {
          return llama_attention(ctx, attention, o, rotation, normed);
        });
        const Value mid = binary(ctx, "Add", h, a);
        auto& ff = child<nn::Module>(*block, "feed_forward");
        const Value f_in = ctx.run_child(*block, "ffn_norm", mid);
        const Value f = ctx.part("feed_forward", ff.type(), [&] {
          const Value gated = binary(ctx, "Mul", silu(ctx, ctx.run_child(ff, "w1", f_in)),
                                     ctx.run_child(ff, "w3", f_in));
          return ctx.run_child(ff, "w2", gated);
        });
        return binary(ctx, "Add", mid, f);
      });
    }
    return h;
  });
  x = ctx.run_child(llama, "norm", x);
  return lm_head(ctx, llama, "output", x, o.vocab_size);
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(GPT, export_gpt);
DLT_REGISTER_LAYER_EXPORT(Llama, export_llama);

}  // namespace dlt::onnx_export
