#include "dlt/nn/causal_lm.h"

#include "dlt/core/error.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

KVCache::KVCache(int64_t batch, int64_t kv_heads, int64_t capacity, int64_t head_dim,
                 TensorOptions opts)
    : k_(empty({batch, kv_heads, capacity, head_dim}, opts)),
      v_(empty({batch, kv_heads, capacity, head_dim}, opts)) {}

std::pair<Tensor, Tensor> KVCache::append(const Tensor& k_new, const Tensor& v_new) {
  const int64_t n = k_new.size(2), capacity = k_.size(2);
  DLT_CHECK(length_ + n <= capacity,
            "KV cache: {} positions would exceed its capacity of {} (the model's block_size)",
            length_ + n, capacity);
  k_.slice(2, length_, length_ + n).copy_(k_new);
  v_.slice(2, length_, length_ + n).copy_(v_new);
  length_ += n;
  return {k_.slice(2, 0, length_), v_.slice(2, 0, length_)};
}

void CausalLM::start_decoding(int64_t batch, int64_t capacity) {
  DLT_CHECK(capacity >= 1 && capacity <= block_size(),
            "a decoding capacity of {} positions is outside 1 .. block_size = {}", capacity,
            block_size());
  start_caches(batch, capacity);
  decoded_ = 0;
}

Tensor CausalLM::decode(const Tensor& ids) {
  Tensor out = logits(ids);
  decoded_ += ids.size(1);
  return out;
}

void CausalLM::stop_decoding() {
  stop_caches();
  decoded_ = 0;
}

void check_positions(const char* model, int64_t first, int64_t len, int64_t block_size) {
  if (first + len <= block_size) return;
  if (first == 0)
    throw Error(fmt::format("{}: sequence length T = {} exceeds block_size = {}", model, len,
                            block_size));
  throw Error(fmt::format("{}: positions up to {} exceed block_size = {}", model, first + len,
                          block_size));
}

Tensor causal_mask(int64_t queries, int64_t offset, Device device) {
  return triu(ones({queries, offset + queries}, TensorOptions(DType::boolean).device(device)),
              offset + 1);
}

}  // namespace dlt::nn
