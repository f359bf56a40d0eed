// Timing for the C++ halves of scripts/bench: the median seconds a call takes.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace dlt::bench {

// Median seconds per call over enough calls to fill ~`budget` seconds (at
// least 5, at most 200), after three warm-up calls (caches, primitives,
// allocator).
template <class F> double time_median(F&& f, double budget = 0.6) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 5 ||
         (std::chrono::duration<double>(Clock::now() - start).count() < budget && samples.size() < 200)) {
    const auto t0 = Clock::now();
    f();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace dlt::bench
