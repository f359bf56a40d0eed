#include "dlt/generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "dlt/core/error.h"

namespace dlt::generate {

void check_sampling_options(const SamplingOptions& o) {
  DLT_CHECK(o.temperature >= 0 && std::isfinite(o.temperature),
            "--temperature must be 0 (greedy) or positive, got {}", o.temperature);
  DLT_CHECK(o.top_k >= 0, "--top-k must be 0 (every token) or positive, got {}", o.top_k);
  DLT_CHECK(o.top_p > 0 && o.top_p <= 1, "--top-p must be in (0, 1], got {}", o.top_p);
}

int64_t sample_token(std::span<const double> logits, const SamplingOptions& o, double u) {
  const auto n = static_cast<int64_t>(logits.size());
  DLT_CHECK(n >= 1, "sample_token: no logits");
  // Token ids by decreasing logit, ties by id: the order every cut uses.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  if (o.temperature == 0) return order.front();

  int64_t keep = o.top_k > 0 ? std::min(o.top_k, n) : n;
  // Softmax at the temperature over the kept tokens, from the largest logit.
  std::vector<double> p(static_cast<size_t>(keep));
  const double top = logits[order[0]];
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) total += p[i] = std::exp((logits[order[i]] - top) / o.temperature);
  if (o.top_p < 1) {  // the smallest prefix whose probability reaches top_p
    double mass = 0;
    for (int64_t i = 0; i < keep; ++i) {
      mass += p[i] / total;
      if (mass >= o.top_p) {
        keep = i + 1;
        break;
      }
    }
    total = std::accumulate(p.begin(), p.begin() + keep, 0.0);
  }
  double cumulative = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cumulative += p[i] / total;
    if (u < cumulative) return order[i];
  }
  return order[keep - 1];  // u within rounding of 1
}

}  // namespace dlt::generate
