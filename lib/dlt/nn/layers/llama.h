// A Llama-style decoder: token ids (B, T) -> logits (B, T, V).
//
//   x = tok_embeddings(ids)                                  (B, T, C)
//   x = x + attention(attention_norm(x))                     each of the N layers:
//   x = x + feed_forward(ffn_norm(x))                        pre-norm, RMSNorm
//   logits = output(norm(x))                                 (B, T, V)
//
//   attention: q = wq(x) (H heads), k = wk(x), v = wv(x) (Hkv heads, Hkv
//              dividing H: grouped-query attention), rotary position
//              embeddings on q and k, causal softmax(q k^T / sqrt(D)) v, wo
//   feed_forward (SwiGLU): w2(silu(w1(x)) * w3(x)), hidden width F
//
// No biases anywhere. Parameter names follow Meta's reference layout
// (tok_embeddings.weight, layers.0.attention.wq.weight,
// layers.0.feed_forward.w1.weight, layers.0.attention_norm.weight, norm.weight,
// output.weight); rotary pairs are adjacent features (x[2i], x[2i + 1]) as in
// that layout. With weight_tying the output multiplies by tok_embeddings'
// weight. F defaults to Meta's rule: 2/3 of 4C, rounded up to a multiple
// of multiple_of.
//
// Initialisation: every Linear and the embedding ~ N(0, 0.02), the two
// projections into the residual stream (wo, w2) ~ N(0, 0.02 / sqrt(2N)),
// RMSNorm weights ones.
#pragma once

#include <memory>
#include <vector>

#include "dlt/nn/causal_lm.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/gpt.h"
#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/rms_norm.h"

namespace dlt::nn {

struct LlamaOptions {
  int64_t vocab_size = 0;  // V, required
  int64_t block_size = 0;  // longest sequence T, required
  int64_t embed_dim = 0;   // C, required
  int64_t heads = 1;       // H
  int64_t kv_heads = 0;    // Hkv, divides H; 0: H (no grouping)
  int64_t layers = 1;      // N
  int64_t ffn_dim = 0;     // F; 0: Meta's rule with multiple_of
  int64_t multiple_of = 256;
  double norm_eps = 1e-5;
  double rope_theta = 10000;
  double dropout = 0.0;  // on the output of every attention and feed-forward
  bool weight_tying = false;
};

// cos and sin of the rotary angles pos * theta^(-2i / D), (positions, D / 2)
// each, computed in float64; a copy in the dtype and on the device in use is
// made once.
class RotaryTables {
 public:
  RotaryTables(int64_t positions, int64_t head_dim, double theta);
  // Rows offset .. offset + len - 1 in `dtype` on `device`.
  std::pair<Tensor, Tensor> rows(int64_t offset, int64_t len, DType dtype, Device device);

 private:
  Tensor cos64_, sin64_;  // float64, on the CPU
  Tensor cos_, sin_;      // the copy in use
};

class LlamaAttention : public Layer {
 public:
  LlamaAttention(const LlamaOptions& options, std::shared_ptr<RotaryTables> rotary,
                 const Shape& input_shape, BuildContext& ctx);
  // x (B, T, C) -> (B, T, C); with a cache, x holds the positions after the cached ones.
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "LlamaAttention"; }

  void start_cache(int64_t batch, int64_t capacity);
  void stop_cache() { cache_ = KVCache(); }

 private:
  const int64_t heads_, kv_heads_, head_dim_;
  std::shared_ptr<RotaryTables> rotary_;
  std::shared_ptr<Linear> wq_, wk_, wv_, wo_;
  KVCache cache_;
};

class LlamaFeedForward : public Layer {
 public:
  LlamaFeedForward(int64_t hidden, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;  // (B, T, C) -> (B, T, C)
  std::string type() const override { return "LlamaFeedForward"; }

 private:
  std::shared_ptr<Linear> w1_, w2_, w3_;
};

class LlamaBlock : public Layer {
 public:
  LlamaBlock(const LlamaOptions& options, std::shared_ptr<RotaryTables> rotary,
             const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "LlamaBlock"; }

  LlamaAttention& attention() { return *attention_; }

 private:
  double dropout_;
  Generator* gen_;
  std::shared_ptr<RMSNorm> attention_norm_, ffn_norm_;
  std::shared_ptr<LlamaAttention> attention_;
  std::shared_ptr<LlamaFeedForward> feed_forward_;
};

// The blocks in order, named "0", "1", ... like torch's ModuleList.
class LlamaLayers : public Layer {
 public:
  LlamaLayers(const LlamaOptions& options, std::shared_ptr<RotaryTables> rotary,
              const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "ModuleList"; }

  std::vector<std::shared_ptr<LlamaBlock>> blocks;
};

class Llama : public Layer, public CausalLM {
 public:
  // input_shape: [T], token ids, with T <= block_size.
  Llama(LlamaOptions options, const Shape& input_shape, BuildContext& ctx);

  Tensor forward(const Tensor& ids) override;  // integer (B, T) -> (B, T, V)
  std::string type() const override { return "Llama"; }
  std::string describe() const override;

  int64_t vocab_size() const override { return options.vocab_size; }
  int64_t block_size() const override { return options.block_size; }

  const LlamaOptions options;

 private:
  void start_caches(int64_t batch, int64_t capacity) override;
  void stop_caches() override;
  Tensor logits(const Tensor& ids) override { return forward(ids); }

  std::shared_ptr<Embedding> tok_embeddings_;
  std::shared_ptr<LlamaLayers> layers_;
  std::shared_ptr<RMSNorm> norm_;
  std::shared_ptr<LMHead> output_;
};

// Meta's feed-forward width: 2/3 of 4C rounded up to a multiple of multiple_of.
int64_t llama_ffn_dim(int64_t embed_dim, int64_t multiple_of);

}  // namespace dlt::nn
