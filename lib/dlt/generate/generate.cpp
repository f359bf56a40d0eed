#include "dlt/generate/generate.h"

#include <algorithm>
#include <cmath>

#include "dlt/core/error.h"
#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::generate {
std::vector<std::vector<int64_t>> generate(nn::Module& model, nn::CausalLM& lm,
                                           const std::vector<int64_t>& prompt,
                                           const GenerateOptions& o, const TokenCallback& on_tokens) {
  check_sampling_options(o.sampling);
  DLT_CHECK(!prompt.empty(), "generate: the prompt has no tokens");
  DLT_CHECK(o.tokens >= 0 && o.samples >= 1, "generate: tokens ({}) and samples ({}) out of range",
            o.tokens, o.samples);
  const int64_t v = lm.vocab_size(), window = lm.block_size(), b = o.samples;
  for (const int64_t id : prompt)
    DLT_CHECK(id >= 0 && id < v, "generate: prompt token {} is outside the model's vocabulary of {}",
              id, v);
  const Device device = model.parameters().empty() ? Device::cpu() : model.parameters()[0].device();
  model.eval();
  NoGradGuard no_grad;
  Generator gen(o.seed);

  // The context each sample sees: the prompt (its last `window` tokens), then
  // what it generated. Every sample's context has the same length.
  std::vector<std::vector<int64_t>> context(static_cast<size_t>(b)), generated(context.size());
  const auto start = prompt.size() > size_t(window) ? prompt.end() - window : prompt.begin();
  for (auto& c : context) c.assign(start, prompt.end());

  // Restarts the caches and feeds the last `keep` tokens of each context;
  // returns their logits (B, keep, V).
  const auto prefill = [&](size_t keep) {
    std::vector<int64_t> rows;
    for (auto& c : context) {
      c.erase(c.begin(), c.end() - static_cast<ptrdiff_t>(keep));
      rows.insert(rows.end(), c.begin(), c.end());
    }
    lm.start_decoding(b, window);
    return lm.decode(from_vector<int64_t>(rows, {b, int64_t(keep)}).to(device));
  };
  Tensor logits = prefill(context[0].size());

  std::vector<int64_t> next(static_cast<size_t>(b));
  for (int64_t step = 0; step < o.tokens; ++step) {
    // The last position's logits of every sample, (B, V) in float64 on the CPU.
    const Tensor last = logits.select(1, logits.size(1) - 1).to(DType::f64).to(Device::cpu()).contiguous();
    const double* row = last.data_ptr<double>();
    const Tensor draws = rand({b}, DType::f64, &gen);
    for (int64_t s = 0; s < b; ++s) {
      const std::span<const double> l(row + s * v, size_t(v));
      DLT_CHECK(std::none_of(l.begin(), l.end(), [](double x) { return std::isnan(x); }),
                "generate: the model's logits are NaN at new token {} of sample {}", step, s);
      next[s] = sample_token(l, o.sampling, draws.data_ptr<double>()[s]);
      generated[s].push_back(next[s]);
      context[s].push_back(next[s]);
    }
    if (on_tokens) on_tokens(next);
    if (step + 1 == o.tokens) break;
    if (int64_t(context[0].size()) > window) {
      logits = prefill(size_t(std::max<int64_t>(1, window / 2)));
    } else {
      std::vector<int64_t> column(next.begin(), next.end());
      logits = lm.decode(from_vector<int64_t>(column, {b, 1}).to(device));
    }
  }
  lm.stop_decoding();
  return generated;
}

}  // namespace dlt::generate
