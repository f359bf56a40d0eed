// A pre-norm transformer block (GPT-2, or a ViT encoder block with causal
// false): x (B, T, C) -> (B, T, C).
//
//   x = x + attn(ln1(x))
//   x = x + mlp(ln2(x)),   mlp = fc (C -> 4C), GELU, proj (4C -> C), dropout
#pragma once

#include <memory>
#include <vector>

#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/multihead_attention.h"

namespace dlt::nn {

struct TransformerBlockOptions {
  int64_t heads = 1;      // H
  int64_t mlp_ratio = 4;  // the MLP's hidden width is mlp_ratio * C
  bool causal = true;
  double dropout = 0.0;    // attention, residual and MLP dropout
  bool bias = true;        // biases of every Linear
  bool gelu_tanh = false;  // tanh approximation of GELU (GPT-2's "gelu_new")
};

// The block's feed-forward part: fc -> GELU -> proj -> dropout.
class TransformerMLP : public Layer {
 public:
  TransformerMLP(const TransformerBlockOptions& options, const Shape& input_shape,
                 BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "TransformerMLP"; }

 private:
  TransformerBlockOptions options_;
  std::shared_ptr<Linear> fc_, proj_;
  Generator* gen_;
};

class TransformerBlock : public Layer {
 public:
  // input_shape: [T, C].
  TransformerBlock(TransformerBlockOptions options, const Shape& input_shape, BuildContext& ctx);

  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  // x (B, T, C), key_padding_mask (B, T) bool, true = padding (MultiHeadAttention)
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask);
  std::string type() const override { return "TransformerBlock"; }
  std::string describe() const override;

  MultiHeadAttention& attention() { return *attn_; }

  const TransformerBlockOptions options;

 private:
  std::shared_ptr<LayerNorm> ln1_, ln2_;
  std::shared_ptr<MultiHeadAttention> attn_;
  std::shared_ptr<TransformerMLP> mlp_;
};

// The blocks in order, named "0", "1", ... like torch's ModuleList.
class TransformerStack : public Layer {
 public:
  TransformerStack(const TransformerBlockOptions& options, int64_t layers, const Shape& input_shape,
                   BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Sequential"; }

  const std::vector<std::shared_ptr<TransformerBlock>>& blocks() const { return blocks_; }

 private:
  std::vector<std::shared_ptr<TransformerBlock>> blocks_;
};

// The YAML key `gelu_approximate: none | tanh` (torch's GELU `approximate`).
bool read_gelu_tanh(const config::Node& spec, const char* fallback);

}  // namespace dlt::nn
