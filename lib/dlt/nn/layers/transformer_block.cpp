#include "dlt/nn/layers/transformer_block.h"

#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

TransformerMLP::TransformerMLP(const TransformerBlockOptions& o, const Shape& input_shape,
                               BuildContext& ctx)
    : options_(o), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.mlp_ratio >= 1, "mlp_ratio must be at least 1, got {}", o.mlp_ratio);
  const int64_t c = input_shape.back();
  fc_ = register_module(
      "fc", std::make_shared<Linear>(LinearOptions{o.mlp_ratio * c, o.bias}, input_shape, ctx));
  proj_ = register_module(
      "proj", std::make_shared<Linear>(LinearOptions{c, o.bias}, fc_->output_shape(), ctx));
  output_shape_ = input_shape;
}

Tensor TransformerMLP::forward(const Tensor& x) {
  // fc and its GELU in one call: in training on the CPU fc's bias is added
  // in GELU's pass, not in a pass of its own over the (B, T, 4C) product.
  const Tensor hidden = linear_gelu(x, fc_->weight, fc_->bias, options_.gelu_tanh);  // (B, T, 4C)
  return dropout((*proj_)(hidden), options_.dropout, training(), gen_);
}

TransformerBlock::TransformerBlock(TransformerBlockOptions o, const Shape& input_shape,
                                   BuildContext& ctx)
    : options(o) {
  const MultiHeadAttentionOptions attn{
      .heads = o.heads, .causal = o.causal, .dropout = o.dropout, .bias = o.bias};
  ln1_ = register_module("ln1", std::make_shared<LayerNorm>(LayerNormOptions{}, input_shape, ctx));
  attn_ = register_module("attn", std::make_shared<MultiHeadAttention>(attn, input_shape, ctx));
  ln2_ = register_module("ln2", std::make_shared<LayerNorm>(LayerNormOptions{}, input_shape, ctx));
  mlp_ = register_module("mlp", std::make_shared<TransformerMLP>(o, input_shape, ctx));
  output_shape_ = input_shape;
}

std::string TransformerBlock::describe() const {
  return fmt::format("embed_dim={}, heads={}, mlp_ratio={}, causal={}, dropout={}",
                     attn_->embed_dim, options.heads, options.mlp_ratio, options.causal,
                     options.dropout);
}

Tensor TransformerBlock::forward(const Tensor& x, const Tensor& key_padding_mask) {
  const Tensor normed = (*ln1_)(x);
  // operator() (the profiler's "forward" range) takes one tensor.
  const Tensor h = x + (key_padding_mask.defined() ? attn_->forward(normed, key_padding_mask)
                                                   : (*attn_)(normed));
  return h + (*mlp_)((*ln2_)(h));
}

TransformerStack::TransformerStack(const TransformerBlockOptions& options, int64_t layers,
                                   const Shape& input_shape, BuildContext& ctx) {
  for (int64_t i = 0; i < layers; ++i)
    blocks_.push_back(register_module(
        std::to_string(i), std::make_shared<TransformerBlock>(options, input_shape, ctx)));
  output_shape_ = input_shape;
}

Tensor TransformerStack::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& block : blocks_) h = (*block)(h);
  return h;
}

bool read_gelu_tanh(const config::Node& spec, const char* fallback) {
  const std::string approximate = spec.get_or<std::string>("gelu_approximate", fallback);
  if (approximate != "none" && approximate != "tanh")
    spec.at("gelu_approximate")
        .fail(fmt::format("expected 'none' or 'tanh', got '{}'", approximate));
  return approximate == "tanh";
}

static const LayerInfo kTransformerBlockInfo{
    .summary = "pre-norm block: x + attn(ln1(x)), then + mlp(ln2(x)): [T, C] -> [T, C]",
    .options = {
        {"heads", "", "attention heads; divides C"},
        {"mlp_ratio", "4", "hidden width of the MLP as a multiple of C"},
        {"causal", "true", "position t attends only to positions <= t"},
        {"dropout", "0", "attention, residual and MLP dropout"},
        {"bias", "true", "biases of every Linear"},
        {"gelu_approximate", "none", "GELU of the MLP: none (exact) or tanh"}},
    .example = "{type: TransformerBlock, heads: 2}",
    .example_input = {3, 4}};

static Built build_transformer_block(const config::Node& spec, const Shape& input_shape,
                                     BuildContext& ctx) {
  check_options(spec, kTransformerBlockInfo);
  const TransformerBlockOptions o{.heads = read_positive(spec, "heads"),
                                  .mlp_ratio = read_int(spec, "mlp_ratio", 4, 1, 64),
                                  .causal = spec.get_or("causal", true),
                                  .dropout = read_double(spec, "dropout", 0, 0, 1),
                                  .bias = spec.get_or("bias", true),
                                  .gelu_tanh = read_gelu_tanh(spec, "none")};
  return make_layer<TransformerBlock>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(TransformerBlock, build_transformer_block, kTransformerBlockInfo);

}  // namespace dlt::nn
