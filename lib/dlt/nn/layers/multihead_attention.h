// GPT-style multi-head self-attention: x (B, T, C) -> (B, T, C).
//
//   q, k, v = split(qkv(x))                 (B, H, T, D) each, views of (B, T, 3C)
//   att = softmax(q @ k^T / sqrt(D))        (B, H, T, T); causal: position t
//                                           attends to positions <= t only
//   y   = dropout(proj(dropout(att) @ v))   (B, T, C)
//
// H heads of size D = C / H; C is the last dim of the input shape [T, C].
// Causal attention without a padding mask runs as the fused causal_attention
// op (on a GPU for D <= 128 and without dropout on the weights); everything
// else (encoder attention, padding masks, weight dropout on a GPU) takes the
// unfused path, where every step is an autograd op. Both paths draw the same
// dropout mask from the same generator state.
//
// key_padding_mask (B, T) bool, true = a padding position (torch's
// key_padding_mask): no query attends to it. A query left with no key at all
// (a sequence of padding only, or, when causal, padding up to and including
// its own position) gets a zero attention output, so the layer returns proj's
// bias there, and passes no gradient back through attention; torch's
// nn.MultiheadAttention returns NaN for such rows instead.
#pragma once

#include <memory>

#include "dlt/nn/causal_lm.h"
#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/linear.h"

namespace dlt::nn {

struct MultiHeadAttentionOptions {
  int64_t heads = 1;  // H; must divide C
  bool causal = true;
  double dropout = 0.0;  // on the attention weights and on the output
  bool bias = true;      // qkv and proj biases
};

class MultiHeadAttention : public Layer {
 public:
  MultiHeadAttention(MultiHeadAttentionOptions options, const Shape& input_shape,
                     BuildContext& ctx);

  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  // x (B, T, C), key_padding_mask (B, T) bool or undefined -> (B, T, C)
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask);
  std::string type() const override { return "MultiHeadAttention"; }
  std::string describe() const override;

  const MultiHeadAttentionOptions options;
  const int64_t embed_dim;  // C

  // Incremental decoding (causal only): while a cache is held, forward()
  // takes the positions after the cached ones and attends to all of them.
  void start_cache(int64_t batch, int64_t capacity);
  void stop_cache() { cache_ = KVCache(); }

 private:
  // (T, T) bool, true above the diagonal (the future); rebuilt when T changes.
  const Tensor& future_mask(int64_t t, Device device);

  std::shared_ptr<Linear> qkv_, proj_;
  Generator* gen_;  // dropout masks; null: the default generator
  Tensor mask_;
  KVCache cache_;
};

}  // namespace dlt::nn
