#include "dlt/nn/layers/gpt.h"

#include <cmath>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Tensor LMHead::forward(const Tensor& x) { return linear(x, weight_); }

GPT::GPT(GPTOptions o, const Shape& input_shape, BuildContext& ctx) : options(o), gen_(ctx.gen) {
  DLT_LAYER_CHECK(input_shape.size() == 1, "expected input [T] (token ids), got {}",
                  shape_str(input_shape));
  DLT_LAYER_CHECK(
      o.vocab_size >= 1 && o.block_size >= 1 && o.embed_dim >= 1 && o.layers >= 1,
      "vocab_size ({}), block_size ({}), embed_dim ({}) and layers ({}) must be at least 1",
      o.vocab_size, o.block_size, o.embed_dim, o.layers);
  const int64_t t = input_shape[0], v = o.vocab_size, c = o.embed_dim;
  DLT_LAYER_CHECK(t <= o.block_size, "sequence length T = {} exceeds block_size = {}", t,
                  o.block_size);
  DLT_LAYER_CHECK(o.dropout >= 0 && o.dropout < 1, "dropout must be in [0, 1), got {}", o.dropout);

  const EmbeddingOptions tokens{.num_embeddings = v, .dim = c, .padding_idx = {}};
  const EmbeddingOptions positions{.num_embeddings = o.block_size, .dim = c, .padding_idx = {}};
  tok_emb_ = register_module("tok_emb", std::make_shared<Embedding>(tokens, input_shape, ctx));
  pos_emb_ = register_module("pos_emb", std::make_shared<Embedding>(positions, input_shape, ctx));
  const TransformerBlockOptions block{.heads = o.heads,
                                      .mlp_ratio = o.mlp_ratio,
                                      .causal = true,
                                      .dropout = o.dropout,
                                      .bias = o.bias,
                                      .gelu_tanh = o.gelu_tanh};
  const Shape hidden = {t, c};
  blocks_ =
      register_module("blocks", std::make_shared<TransformerStack>(block, o.layers, hidden, ctx));
  ln_f_ = register_module("ln_f", std::make_shared<LayerNorm>(LayerNormOptions{}, hidden, ctx));
  head_ = register_module(
      "head", std::make_shared<LMHead>(o.weight_tying ? tok_emb_->weight
                                                      : empty({v, c}, param_options(ctx))));
  init_gpt2(ctx.gen);
  output_shape_ = {t, v};
}

void GPT::init_gpt2(Generator* gen) {
  const double base_std = 0.02;
  const double residual_std = base_std / std::sqrt(2.0 * double(options.layers));
  const auto ends_with = [](const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // named_parameters lists a tied weight once, so it is drawn once.
  for (auto& [name, p] : named_parameters()) {
    Tensor param = p;
    if (param.dim() == 2) {  // Linear and Embedding weights
      const bool residual =
          ends_with(name, "attn.proj.weight") || ends_with(name, "mlp.proj.weight");
      init::normal_(param, 0, residual ? residual_std : base_std, gen);
    } else if (ends_with(name, ".bias")) {
      init::zeros_(param);
    }  // LayerNorm weights stay ones
  }
}

std::string GPT::describe() const {
  return fmt::format(
      "vocab_size={}, block_size={}, embed_dim={}, heads={}, layers={}, dropout={}, "
      "weight_tying={}",
      options.vocab_size, options.block_size, options.embed_dim, options.heads, options.layers,
      options.dropout, options.weight_tying);
}

Tensor GPT::forward(const Tensor& ids) {
  DLT_CHECK(ids.dim() == 2 && is_integral(ids.dtype()),
            "GPT: expected integer token ids (B, T), got {} {}", dtype_name(ids.dtype()),
            shape_str(ids.shape()));
  const int64_t t = ids.size(1), first = decoded();  // positions first .. first + T - 1
  check_positions("GPT", first, t, options.block_size);
  const Tensor positions =
      arange(first, first + t, 1, TensorOptions(DType::i64).device(ids.device()));  // (T)
  Tensor x = (*tok_emb_)(ids) + (*pos_emb_)(positions);  // (B, T, C) + (T, C)
  x = dropout(x, options.dropout, training(), gen_);
  x = (*blocks_)(x);
  return (*head_)((*ln_f_)(x));  // (B, T, V)
}

void GPT::start_caches(int64_t batch, int64_t capacity) {
  for (const auto& block : blocks_->blocks()) block->attention().start_cache(batch, capacity);
}

void GPT::stop_caches() {
  for (const auto& block : blocks_->blocks()) block->attention().stop_cache();
}

static const LayerInfo kGPTInfo{
    .summary = "GPT-2 decoder: token and position embeddings, pre-norm causal blocks, ln_f, "
               "head: [T] ids -> [T, vocab_size]",
    .options = {
        {"vocab_size", "", "number of token ids"},
        {"embed_dim", "", "C, the width of the residual stream"},
        {"block_size", "(the input's T)", "longest sequence (position embeddings)"},
        {"heads", "1", "attention heads; divides embed_dim"},
        {"layers", "1", "transformer blocks"},
        {"mlp_ratio", "4", "hidden width of the MLP as a multiple of C"},
        {"dropout", "0", "embedding, attention, residual and MLP dropout"},
        {"bias", "true", "biases of every Linear but the head"},
        {"gelu_approximate", "tanh", "GELU of the MLP: tanh (GPT-2) or none"},
        {"weight_tying", "true", "the head shares tok_emb.weight"}},
    .example = "{type: GPT, vocab_size: 11, embed_dim: 8, heads: 2}",
    .example_input = {5}};

static Built build_gpt(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kGPTInfo);
  const int64_t t = input_shape.size() == 1 ? input_shape[0] : 1;  // GPT checks the rank
  GPTOptions o{.vocab_size = read_positive(spec, "vocab_size"),
               .block_size = read_int(spec, "block_size", t, 1, int64_t(1) << 30),
               .embed_dim = read_positive(spec, "embed_dim"),
               .heads = read_int(spec, "heads", 1, 1, 1024),
               .layers = read_int(spec, "layers", 1, 1, 1024),
               .mlp_ratio = read_int(spec, "mlp_ratio", 4, 1, 64),
               .dropout = read_double(spec, "dropout", 0, 0, 1),
               .bias = spec.get_or("bias", true),
               .gelu_tanh = read_gelu_tanh(spec, "tanh"),
               .weight_tying = spec.get_or("weight_tying", true)};
  return make_layer<GPT>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(GPT, build_gpt, kGPTInfo);

}  // namespace dlt::nn
