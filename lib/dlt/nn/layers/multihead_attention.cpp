#include "dlt/nn/layers/multihead_attention.h"

#include <cmath>
#include <limits>

#include "dlt/autograd/function.h"
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/grouped_attention.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/attention.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

// Fused causal attention over the packed projection (B, T, 3, H, D) ->
// (B, H, T, D), with dropout p on its weights. Its backward kernel writes
// d(q, k, v) straight into one (B, T, 3, H, D) gradient, where the backward of
// three selects would each zero a full-size gradient and then add the three together.
static Tensor packed_causal_attention(const Tensor& packed, double scale, double dropout,
                                      Generator* gen) {
  const Tensor qkv = packed.detach().permute({2, 0, 3, 1, 4});  // (3, B, H, T, D) view
  const Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
  ops::AttentionForward f;
  {
    NoGradGuard no_grad;
    f = ops::causal_attention_with_lse(q, k, v, scale, dropout, gen);
  }
  Tensor out = f.out;
  const Tensor saved_out = out.detach();
  const Shape shape = packed.shape();
  const Tensor inputs[] = {packed};
  autograd::attach_backward(
      out, inputs, "PackedCausalAttentionBackward",
      [q, k, v, saved_out, lse = f.lse, attrs = f.attrs, shape](const Tensor& grad) {
        Tensor d = empty(shape, TensorOptions(q.dtype()).device(q.device()));
        const Tensor heads_first = d.permute({2, 0, 3, 1, 4});  // (3, B, H, T, D) view of d
        const ops::AttentionGrads into{heads_first.select(0, 0), heads_first.select(0, 1),
                                       heads_first.select(0, 2)};
        ops::causal_attention_backward(grad, q, k, v, saved_out, lse, attrs, &into);
        return std::vector<Tensor>{d};
      });
  return out;
}

static int64_t embed_dim_of(const Shape& input_shape) {
  DLT_LAYER_CHECK(input_shape.size() == 2, "expected input [T, C], got {}", shape_str(input_shape));
  return input_shape[1];
}

MultiHeadAttention::MultiHeadAttention(MultiHeadAttentionOptions o, const Shape& input_shape,
                                       BuildContext& ctx)
    : options(o), embed_dim(embed_dim_of(input_shape)), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.heads >= 1, "heads must be at least 1, got {}", o.heads);
  DLT_LAYER_CHECK(embed_dim % o.heads == 0, "heads ({}) must divide the embedding size C = {}",
                  o.heads, embed_dim);
  DLT_LAYER_CHECK(o.dropout >= 0 && o.dropout < 1, "dropout must be in [0, 1), got {}", o.dropout);
  qkv_ = register_module(
      "qkv", std::make_shared<Linear>(LinearOptions{3 * embed_dim, o.bias}, input_shape, ctx));
  proj_ = register_module(
      "proj", std::make_shared<Linear>(LinearOptions{embed_dim, o.bias}, input_shape, ctx));
  output_shape_ = input_shape;
}

std::string MultiHeadAttention::describe() const {
  return fmt::format("embed_dim={}, heads={}, causal={}, dropout={}, bias={}", embed_dim,
                     options.heads, options.causal, options.dropout, options.bias);
}

void MultiHeadAttention::start_cache(int64_t batch, int64_t capacity) {
  DLT_CHECK(options.causal, "MultiHeadAttention: only causal attention decodes incrementally");
  const Tensor& w = qkv_->weight;
  cache_ = KVCache(batch, options.heads, capacity, embed_dim / options.heads,
                   TensorOptions(w.dtype()).device(w.device()));
}

const Tensor& MultiHeadAttention::future_mask(int64_t t, Device device) {
  if (!mask_.defined() || mask_.size(0) != t || mask_.device() != device)
    mask_ = triu(ones({t, t}, TensorOptions(DType::boolean).device(device)), 1);
  return mask_;
}

// scores (B, H, T, T) -> attention weights (B, H, T, T), softmax over the
// keys. A row whose keys are all masked (-inf) is set to 0 before the softmax,
// which keeps it finite (torch's would be NaN), and to 0 after it: that query
// attends to nothing, and masked_fill's backward stops its gradient.
static Tensor masked_softmax(const Tensor& scores) {
  const Tensor minus_inf =
      full({1}, -std::numeric_limits<double>::infinity(),
           TensorOptions(scores.dtype()).device(scores.device()));
  const Tensor no_key = eq(amax(scores.detach(), {-1}, true), minus_inf);  // (B, H, T, 1)
  return masked_fill(softmax(masked_fill(scores, no_key, 0), -1), no_key, 0);
}

Tensor MultiHeadAttention::forward(const Tensor& x, const Tensor& key_padding_mask) {
  const int64_t c = embed_dim, h = options.heads, d = c / h;
  DLT_CHECK(x.dim() == 3 && x.size(2) == c, "MultiHeadAttention: expected input (B, T, {}), got {}",
            c, shape_str(x.shape()));
  const int64_t b = x.size(0), t = x.size(1);
  const bool padded = key_padding_mask.defined();
  if (padded) {
    DLT_CHECK(key_padding_mask.dtype() == DType::boolean && key_padding_mask.shape() == Shape({b, t}),
              "MultiHeadAttention: expected a bool key_padding_mask (B, T) = {} for input {}, got "
              "{} {}",
              shape_str({b, t}), shape_str(x.shape()), dtype_name(key_padding_mask.dtype()),
              shape_str(key_padding_mask.shape()));
    DLT_CHECK(!cache_.active(), "MultiHeadAttention: a key_padding_mask is not supported while "
                                "decoding incrementally with a KV cache");
  }

  // (B, T, 3C) -> (B, T, 3, H, D): a view, no copy.
  const Tensor packed = (*qkv_)(x).view({b, t, 3, h, d});
  const double scale = 1.0 / std::sqrt(double(d));
  // Causal attention is one fused op that never forms the (B, H, T, T)
  // weights: on the CPU with or without dropout on them, on a GPU without
  // (its kernels take heads up to kMaxGpuAttentionHeadDim); otherwise the
  // unfused path below. Both draw the same dropout mask.
  const bool cpu = x.device().type == DeviceType::cpu;
  const double weight_dropout = training() ? options.dropout : 0.0;
  const bool fused = options.causal && !padded &&
                     (cpu || (weight_dropout == 0 && d <= ops::kMaxGpuAttentionHeadDim));
  Tensor heads;  // (B, H, T, D)
  if (cache_.active()) {
    const Tensor qkv = packed.permute({2, 0, 3, 1, 4});
    const int64_t offset = cache_.length();
    const auto [k, v] = cache_.append(qkv.select(0, 1), qkv.select(0, 2));
    heads = grouped_causal_attention(qkv.select(0, 0), k, v, offset);
  } else if (fused) {
    heads = packed_causal_attention(packed, scale, weight_dropout, gen_);
  } else {
    const Tensor qkv = packed.permute({2, 0, 3, 1, 4});
    const Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
    // The scale goes on q (B, H, T, D), not on the (B, H, T, T) scores: a
    // pass over D values per row instead of T.
    Tensor att = matmul(q * scale, k.transpose(-2, -1));  // (B, H, T, T)
    constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
    if (options.causal) att = masked_fill(att, future_mask(t, x.device()), kMinusInf);
    // Padding: every head and query of sequence b ignores b's padded keys.
    if (padded) att = masked_fill(att, key_padding_mask.view({b, 1, 1, t}), kMinusInf);
    // Causal rows always keep their own position; only padding can empty a row.
    att = padded ? masked_softmax(att) : softmax(att, -1);
    att = dropout(att, options.dropout, training(), gen_);
    heads = matmul(att, v);
  }

  // (B, H, T, D) -> (B, T, H, D) -> (B, T, C): the heads side by side again.
  const Tensor y = heads.transpose(1, 2).reshape({b, t, c});
  return dropout((*proj_)(y), options.dropout, training(), gen_);
}

static const LayerInfo kMultiHeadAttentionInfo{
    .summary = "multi-head self-attention (one qkv projection, softmax(q k^T / sqrt(D)) v, "
               "proj): [T, C] -> [T, C]",
    .options = {
        {"heads", "", "attention heads; divides C"},
        {"causal", "true", "position t attends only to positions <= t"},
        {"dropout", "0", "dropout on the attention weights and the output"},
        {"bias", "true", "biases of qkv and proj"}},
    .example = "{type: MultiHeadAttention, heads: 2}",
    .example_input = {3, 4}};

static Built build_multihead_attention(const config::Node& spec, const Shape& input_shape,
                                       BuildContext& ctx) {
  check_options(spec, kMultiHeadAttentionInfo);
  const MultiHeadAttentionOptions o{.heads = read_positive(spec, "heads"),
                                    .causal = spec.get_or("causal", true),
                                    .dropout = read_double(spec, "dropout", 0, 0, 1),
                                    .bias = spec.get_or("bias", true)};
  return make_layer<MultiHeadAttention>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(MultiHeadAttention, build_multihead_attention, kMultiHeadAttentionInfo);

}  // namespace dlt::nn
