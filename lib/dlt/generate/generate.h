// Text generation from a decoder language model (nn::CausalLM: GPT, Llama):
// the prompt is decoded once into the models' KV caches, then one position
// per new token, so a sequence of n tokens costs O(n) positions of work.
// When the context reaches the model's block_size, the cache restarts from
// the last half of it (positions are re-encoded from 0), which keeps the cost
// linear at a window of at least block_size / 2 tokens of context.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dlt/core/generator.h"
#include "dlt/generate/sampling.h"
#include "dlt/nn/causal_lm.h"
#include "dlt/nn/module.h"

namespace dlt::generate {

struct GenerateOptions {
  int64_t tokens = 200;  // new tokens per sample
  int64_t samples = 1;   // sequences generated side by side (one batch)
  SamplingOptions sampling;
  uint64_t seed = 1;
};

// Called after each step with the new token of every sample (samples).
using TokenCallback = std::function<void(const std::vector<int64_t>& tokens)>;

// Continues `prompt` (ids, at least one) in each of the samples; returns
// the new tokens of each sample. The model runs in eval mode on its device,
// without gradients.
std::vector<std::vector<int64_t>> generate(nn::Module& model, nn::CausalLM& lm,
                                           const std::vector<int64_t>& prompt,
                                           const GenerateOptions& options,
                                           const TokenCallback& on_tokens = nullptr);

}  // namespace dlt::generate
