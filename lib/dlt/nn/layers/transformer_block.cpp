#include "dlt/nn/layers/transformer_block.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

TransformerMLP::TransformerMLP(const TransformerBlockOptions& o, const Shape& input_shape,
                               BuildContext& ctx)
    : options_(o), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.mlp_ratio >= 1, "mlp_ratio must be at least 1, got {}", o.mlp_ratio);
  const int64_t c = input_shape.back();
  fc_ = register_module("fc", std::make_shared<Linear>(LinearOptions{o.mlp_ratio * c, o.bias},
                                                       input_shape, ctx));
  proj_ = register_module("proj", std::make_shared<Linear>(LinearOptions{c, o.bias},
                                                           fc_->output_shape(), ctx));
  output_shape_ = input_shape;
}

Tensor TransformerMLP::forward(const Tensor& x) {
  const Tensor hidden = gelu((*fc_)(x), options_.gelu_tanh);  // (B, T, 4C)
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

Tensor TransformerBlock::forward(const Tensor& x) {
  const Tensor h = x + (*attn_)((*ln1_)(x));
  return h + (*mlp_)((*ln2_)(h));
}

}  // namespace dlt::nn
