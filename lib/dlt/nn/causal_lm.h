// What `dlt generate` needs from a decoder language model: logits for new
// tokens that continue the ones already seen, with the keys and values of
// every attention layer kept, so each new token costs one position's work
// (generation is linear in length, not quadratic).
#pragma once

#include <cstdint>
#include <utility>

#include "dlt/core/tensor.h"

namespace dlt::nn {

// One attention layer's keys and values, (B, Hkv, capacity, D) each, of
// which the first `length` positions are filled.
class KVCache {
 public:
  KVCache() = default;
  KVCache(int64_t batch, int64_t kv_heads, int64_t capacity, int64_t head_dim, TensorOptions opts);

  bool active() const { return k_.defined(); }
  int64_t length() const { return length_; }
  // Appends k_new, v_new (B, Hkv, Tn, D) and returns views of every position
  // so far, (B, Hkv, length, D) each.
  std::pair<Tensor, Tensor> append(const Tensor& k_new, const Tensor& v_new);

 private:
  Tensor k_, v_;
  int64_t length_ = 0;
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t block_size() const = 0;  // the longest context it was built for

  // Empties the caches and makes room for `capacity` positions of `batch`
  // sequences; decode() then continues from position 0.
  void start_decoding(int64_t batch, int64_t capacity);
  // ids (B, Tn) at the positions after those decoded so far -> logits
  // (B, Tn, V). Call without grad mode, in eval mode.
  Tensor decode(const Tensor& ids);
  void stop_decoding();  // frees the caches

 protected:
  // Where the next ids sit: positions decoded since start_decoding, 0 when
  // not decoding.
  int64_t decoded() const { return decoded_; }

 private:
  // The model's part: its attention layers' caches and its forward pass.
  virtual void start_caches(int64_t batch, int64_t capacity) = 0;
  virtual void stop_caches() = 0;
  virtual Tensor logits(const Tensor& ids) = 0;

  int64_t decoded_ = 0;
};

// The error when positions first .. first + len - 1 do not fit a model's
// block_size ("GPT: sequence length T = 9 exceeds block_size = 8").
void check_positions(const char* model, int64_t first, int64_t len, int64_t block_size);

// Query positions offset .. offset + Tn - 1 against key positions
// 0 .. offset + Tn - 1: (Tn, offset + Tn) bool, true where a key is in a
// query's future.
Tensor causal_mask(int64_t queries, int64_t offset, Device device);

}  // namespace dlt::nn
