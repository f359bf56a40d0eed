// A GPT language model (GPT-2 layout): token ids (B, T) -> logits (B, T, V).
//
//   x = dropout(tok_emb(ids) + pos_emb(0..T-1))      (B, T, C)
//   x = blocks.i(x) for each of the N blocks          pre-norm TransformerBlocks
//   logits = head(ln_f(x))                            (B, T, V), no bias
//
// With weight_tying the head multiplies by tok_emb's weight (V, C): one
// tensor, listed once by named_parameters() and under both names by
// state_dict(), as in torch, so its gradient sums both uses.
//
// Initialisation (GPT-2): Linear and Embedding weights ~ N(0, 0.02), biases
// zero, LayerNorms ones/zeros, and the projections into the residual stream
// (attn.proj.weight, mlp.proj.weight) ~ N(0, 0.02 / sqrt(2 * layers)): each
// block adds two of them to the stream, and the scale keeps the stream's
// variance from growing with depth.
#pragma once

#include <memory>
#include <vector>

#include "dlt/nn/causal_lm.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/transformer_block.h"

namespace dlt::nn {

struct GPTOptions {
  int64_t vocab_size = 0;  // V, required
  int64_t block_size = 0;  // longest sequence T, required
  int64_t embed_dim = 0;   // C, required
  int64_t heads = 1;       // H
  int64_t layers = 1;      // N
  int64_t mlp_ratio = 4;
  double dropout = 0.0;   // embedding, attention, residual and MLP dropout
  bool bias = true;       // biases of the blocks' Linears (the head has none)
  bool gelu_tanh = true;  // GPT-2 uses the tanh approximation
  bool weight_tying = true;
};

// The output projection (B, T, C) -> (B, T, V) by a weight (V, C) that may
// be the token embedding's.
class LMHead : public Module {
 public:
  explicit LMHead(Tensor weight) { weight_ = register_parameter("weight", std::move(weight)); }
  Tensor forward(const Tensor& x) override;  // (B, T, C) -> (B, T, V)
  std::string type() const override { return "Linear"; }

 private:
  Tensor weight_;
};

class GPT : public Layer, public CausalLM {
 public:
  // input_shape: [T], token ids, with T <= block_size.
  GPT(GPTOptions options, const Shape& input_shape, BuildContext& ctx);

  Tensor forward(const Tensor& ids) override;  // integer (B, T) -> (B, T, V)
  std::string type() const override { return "GPT"; }
  std::string describe() const override;

  int64_t vocab_size() const override { return options.vocab_size; }
  int64_t block_size() const override { return options.block_size; }

  const GPTOptions options;

 private:
  void start_caches(int64_t batch, int64_t capacity) override;
  void stop_caches() override;
  Tensor logits(const Tensor& ids) override { return forward(ids); }

  void init_gpt2(Generator* gen);

  std::shared_ptr<Embedding> tok_emb_, pos_emb_;
  std::shared_ptr<TransformerStack> blocks_;
  std::shared_ptr<LayerNorm> ln_f_;
  std::shared_ptr<LMHead> head_;
  Generator* gen_;  // dropout masks
};

}  // namespace dlt::nn
