// Choosing the next token from a language model's logits: greedy, or a draw
// from the softmax at a temperature, restricted to the k most likely tokens
// and/or the smallest set whose probability reaches top_p (nucleus sampling).
#pragma once

#include <cstdint>
#include <span>

namespace dlt::generate {

struct SamplingOptions {
  double temperature = 1.0;  // 0: greedy (the most likely token)
  int64_t top_k = 0;         // 0: every token
  double top_p = 1.0;        // 1: no nucleus cut
};

// The next token from one position's logits (V); u in [0, 1) is the draw.
// Ties go to the lower id; the result does not depend on anything but the
// arguments.
int64_t sample_token(std::span<const double> logits, const SamplingOptions& options, double u);

// The error for options out of range (temperature < 0, top_k < 0, top_p
// outside (0, 1]), naming the option as the command line spells it.
void check_sampling_options(const SamplingOptions& options);

}  // namespace dlt::generate
