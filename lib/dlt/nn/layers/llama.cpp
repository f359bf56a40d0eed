#include "dlt/nn/layers/llama.h"

#include <cmath>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/grouped_attention.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

int64_t llama_ffn_dim(int64_t embed_dim, int64_t multiple_of) {
  const int64_t hidden = 2 * (4 * embed_dim) / 3;
  return (hidden + multiple_of - 1) / multiple_of * multiple_of;
}

RotaryTables::RotaryTables(int64_t positions, int64_t head_dim, double theta) {
  const int64_t half = head_dim / 2;
  cos64_ = empty({positions, half}, DType::f64);
  sin64_ = empty({positions, half}, DType::f64);
  double *c = cos64_.data_ptr<double>(), *s = sin64_.data_ptr<double>();
  for (int64_t i = 0; i < half; ++i) {
    const double frequency = std::pow(theta, -2.0 * double(i) / double(head_dim));
    for (int64_t t = 0; t < positions; ++t) {
      c[t * half + i] = std::cos(double(t) * frequency);
      s[t * half + i] = std::sin(double(t) * frequency);
    }
  }
}

std::pair<Tensor, Tensor> RotaryTables::rows(int64_t offset, int64_t len, DType dtype,
                                             Device device) {
  if (!cos_.defined() || cos_.dtype() != dtype || cos_.device() != device) {
    cos_ = cos64_.to(dtype).to(device);
    sin_ = sin64_.to(dtype).to(device);
  }
  return {cos_.slice(0, offset, offset + len), sin_.slice(0, offset, offset + len)};
}

// ---- attention ----------------------------------------------------------------

LlamaAttention::LlamaAttention(const LlamaOptions& o, std::shared_ptr<RotaryTables> rotary,
                               const Shape& input_shape, BuildContext& ctx)
    : heads_(o.heads),
      kv_heads_(o.kv_heads),
      head_dim_(input_shape.back() / o.heads),
      rotary_(std::move(rotary)) {
  const int64_t c = input_shape.back();
  wq_ = register_module("wq", std::make_shared<Linear>(LinearOptions{heads_ * head_dim_, false},
                                                       input_shape, ctx));
  wk_ = register_module("wk", std::make_shared<Linear>(LinearOptions{kv_heads_ * head_dim_, false},
                                                       input_shape, ctx));
  wv_ = register_module("wv", std::make_shared<Linear>(LinearOptions{kv_heads_ * head_dim_, false},
                                                       input_shape, ctx));
  wo_ = register_module("wo", std::make_shared<Linear>(LinearOptions{c, false},
                                                       wq_->output_shape(), ctx));
  output_shape_ = input_shape;
}

void LlamaAttention::start_cache(int64_t batch, int64_t capacity) {
  const Tensor& w = wk_->weight;
  cache_ = KVCache(batch, kv_heads_, capacity, head_dim_,
                   TensorOptions(w.dtype()).device(w.device()));
}

Tensor LlamaAttention::forward(const Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), d = head_dim_;
  const int64_t offset = cache_.active() ? cache_.length() : 0;
  const auto [cos, sin] = rotary_->rows(offset, t, x.dtype(), x.device());
  // Rotations act on (B, T, H, D); attention wants the heads first.
  const Tensor q = rotary_embedding((*wq_)(x).view({b, t, heads_, d}), cos, sin).transpose(1, 2);
  Tensor k = rotary_embedding((*wk_)(x).view({b, t, kv_heads_, d}), cos, sin).transpose(1, 2);
  Tensor v = (*wv_)(x).view({b, t, kv_heads_, d}).transpose(1, 2);
  if (cache_.active()) std::tie(k, v) = cache_.append(k, v);
  const Tensor heads = grouped_causal_attention(q, k, v, offset);  // (B, H, T, D)
  return (*wo_)(heads.transpose(1, 2).reshape({b, t, heads_ * d}));
}

// ---- feed-forward -------------------------------------------------------------

LlamaFeedForward::LlamaFeedForward(int64_t hidden, const Shape& input_shape, BuildContext& ctx) {
  const int64_t c = input_shape.back();
  w1_ = register_module("w1",
                        std::make_shared<Linear>(LinearOptions{hidden, false}, input_shape, ctx));
  w2_ = register_module(
      "w2", std::make_shared<Linear>(LinearOptions{c, false}, w1_->output_shape(), ctx));
  w3_ = register_module("w3",
                        std::make_shared<Linear>(LinearOptions{hidden, false}, input_shape, ctx));
  output_shape_ = input_shape;
}

Tensor LlamaFeedForward::forward(const Tensor& x) {
  return (*w2_)(silu((*w1_)(x)) * (*w3_)(x));  // (B, T, F) gated, back to (B, T, C)
}

// ---- block --------------------------------------------------------------------

LlamaBlock::LlamaBlock(const LlamaOptions& o, std::shared_ptr<RotaryTables> rotary,
                       const Shape& input_shape, BuildContext& ctx)
    : dropout_(o.dropout), gen_(ctx.gen) {
  const RMSNormOptions norm{.shape = std::nullopt, .eps = o.norm_eps};
  attention_norm_ =
      register_module("attention_norm", std::make_shared<RMSNorm>(norm, input_shape, ctx));
  attention_ = register_module(
      "attention", std::make_shared<LlamaAttention>(o, std::move(rotary), input_shape, ctx));
  ffn_norm_ = register_module("ffn_norm", std::make_shared<RMSNorm>(norm, input_shape, ctx));
  feed_forward_ = register_module(
      "feed_forward", std::make_shared<LlamaFeedForward>(o.ffn_dim, input_shape, ctx));
  output_shape_ = input_shape;
}

Tensor LlamaBlock::forward(const Tensor& x) {
  const Tensor h =
      x + dropout((*attention_)((*attention_norm_)(x)), dropout_, training(), gen_);
  return h + dropout((*feed_forward_)((*ffn_norm_)(h)), dropout_, training(), gen_);
}

LlamaLayers::LlamaLayers(const LlamaOptions& o, std::shared_ptr<RotaryTables> rotary,
                         const Shape& input_shape, BuildContext& ctx) {
  for (int64_t i = 0; i < o.layers; ++i)
    blocks.push_back(register_module(
        std::to_string(i), std::make_shared<LlamaBlock>(o, rotary, input_shape, ctx)));
  output_shape_ = input_shape;
}

Tensor LlamaLayers::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& block : blocks) h = (*block)(h);
  return h;
}

// ---- model --------------------------------------------------------------------

Llama::Llama(LlamaOptions o, const Shape& input_shape, BuildContext& ctx)
    : options([&] {
        if (o.kv_heads == 0) o.kv_heads = o.heads;
        if (o.ffn_dim == 0 && o.multiple_of >= 1) o.ffn_dim = llama_ffn_dim(o.embed_dim, o.multiple_of);
        return o;
      }()) {
  const LlamaOptions& p = options;
  DLT_LAYER_CHECK(input_shape.size() == 1, "expected input [T] (token ids), got {}",
                  shape_str(input_shape));
  DLT_LAYER_CHECK(
      p.vocab_size >= 1 && p.block_size >= 1 && p.embed_dim >= 1 && p.layers >= 1,
      "vocab_size ({}), block_size ({}), embed_dim ({}) and layers ({}) must be at least 1",
      p.vocab_size, p.block_size, p.embed_dim, p.layers);
  DLT_LAYER_CHECK(p.embed_dim % p.heads == 0 && p.embed_dim / p.heads % 2 == 0,
                  "heads ({}) must divide embed_dim ({}) into an even head size for the rotary "
                  "embeddings",
                  p.heads, p.embed_dim);
  DLT_LAYER_CHECK(p.kv_heads >= 1 && p.heads % p.kv_heads == 0,
                  "kv_heads ({}) must divide heads ({})", p.kv_heads, p.heads);
  DLT_LAYER_CHECK(p.ffn_dim >= 1, "ffn_dim must be at least 1, got {}", p.ffn_dim);
  DLT_LAYER_CHECK(p.dropout >= 0 && p.dropout < 1, "dropout must be in [0, 1), got {}", p.dropout);
  const int64_t t = input_shape[0], v = p.vocab_size, c = p.embed_dim;
  DLT_LAYER_CHECK(t <= p.block_size, "sequence length T = {} exceeds block_size = {}", t,
                  p.block_size);

  const EmbeddingOptions tokens{.num_embeddings = v, .dim = c, .padding_idx = {}};
  tok_embeddings_ =
      register_module("tok_embeddings", std::make_shared<Embedding>(tokens, input_shape, ctx));
  auto rotary = std::make_shared<RotaryTables>(p.block_size, c / p.heads, p.rope_theta);
  const Shape hidden = {t, c};
  layers_ = register_module("layers", std::make_shared<LlamaLayers>(p, rotary, hidden, ctx));
  norm_ = register_module(
      "norm", std::make_shared<RMSNorm>(RMSNormOptions{.shape = std::nullopt, .eps = p.norm_eps},
                                        hidden, ctx));
  output_ = register_module(
      "output", std::make_shared<LMHead>(p.weight_tying ? tok_embeddings_->weight
                                                        : empty({v, c}, param_options(ctx))));

  const double residual_std = 0.02 / std::sqrt(2.0 * double(p.layers));
  for (auto& [name, param] : named_parameters()) {
    Tensor w = param;
    if (w.dim() != 2) continue;  // RMSNorm weights stay ones
    const bool residual = name.ends_with("attention.wo.weight") ||
                          name.ends_with("feed_forward.w2.weight");
    init::normal_(w, 0, residual ? residual_std : 0.02, ctx.gen);
  }
  output_shape_ = {t, v};
}

std::string Llama::describe() const {
  return fmt::format(
      "vocab_size={}, block_size={}, embed_dim={}, heads={}, kv_heads={}, layers={}, ffn_dim={}, "
      "weight_tying={}",
      options.vocab_size, options.block_size, options.embed_dim, options.heads, options.kv_heads,
      options.layers, options.ffn_dim, options.weight_tying);
}

Tensor Llama::forward(const Tensor& ids) {
  DLT_CHECK(ids.dim() == 2 && is_integral(ids.dtype()),
            "Llama: expected integer token ids (B, T), got {} {}", dtype_name(ids.dtype()),
            shape_str(ids.shape()));
  check_positions("Llama", decoded(), ids.size(1), options.block_size);
  const Tensor x = (*layers_)((*tok_embeddings_)(ids));  // (B, T, C)
  return (*output_)((*norm_)(x));                         // (B, T, V)
}

void Llama::start_caches(int64_t batch, int64_t capacity) {
  for (const auto& block : layers_->blocks) block->attention().start_cache(batch, capacity);
}

void Llama::stop_caches() {
  for (const auto& block : layers_->blocks) block->attention().stop_cache();
}

static const LayerInfo kLlamaInfo{
    .summary = "Llama decoder: RMSNorm, rotary embeddings, SwiGLU, grouped-query attention: "
               "[T] ids -> [T, vocab_size]",
    .options = {
        {"vocab_size", "", "number of token ids"},
        {"embed_dim", "", "C, the width of the residual stream"},
        {"block_size", "(the input's T)", "longest sequence (rotary tables)"},
        {"heads", "1", "query heads; divides embed_dim into an even head size"},
        {"kv_heads", "(heads)", "key/value heads (grouped-query attention); divides heads"},
        {"layers", "1", "transformer blocks"},
        {"ffn_dim", "(2/3 of 4 embed_dim rounded up to multiple_of)", "hidden width of the SwiGLU"},
        {"multiple_of", "256", "rounding of the default ffn_dim"},
        {"norm_eps", "1.0e-5", "eps of every RMSNorm"},
        {"rope_theta", "10000", "base of the rotary frequencies"},
        {"dropout", "0", "residual dropout"},
        {"weight_tying", "false", "the output head shares tok_embeddings.weight"}},
    .example = "{type: Llama, vocab_size: 11, embed_dim: 8, heads: 2}",
    .example_input = {5}};

static Built build_llama(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kLlamaInfo);
  const int64_t t = input_shape.size() == 1 ? input_shape[0] : 1;  // Llama checks the rank
  const int64_t heads = read_int(spec, "heads", 1, 1, 1024);
  const LlamaOptions o{.vocab_size = read_positive(spec, "vocab_size"),
                       .block_size = read_int(spec, "block_size", t, 1, int64_t(1) << 30),
                       .embed_dim = read_positive(spec, "embed_dim"),
                       .heads = heads,
                       .kv_heads = read_int(spec, "kv_heads", heads, 1, 1024),
                       .layers = read_int(spec, "layers", 1, 1, 1024),
                       .ffn_dim = read_int(spec, "ffn_dim", 0, 1, int64_t(1) << 30),
                       .multiple_of = read_int(spec, "multiple_of", 256, 1, 1 << 20),
                       .norm_eps = read_double(spec, "norm_eps", 1e-5, 0, 1),
                       .rope_theta = read_double(spec, "rope_theta", 10000, 1, 1e12),
                       .dropout = read_double(spec, "dropout", 0, 0, 1),
                       .weight_tying = spec.get_or("weight_tying", false)};
  return make_layer<Llama>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Llama, build_llama, kLlamaInfo);

}  // namespace dlt::nn
