// Threading. parallel_for splits a range over the OpenMP threads; callers
// must make each index's work independent of how the range is split.
// Reductions that must not depend on the thread count use fixed-size blocks
// (kReduceBlock) whose partial results are combined in a fixed order.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace dlt {

int num_threads();
void set_num_threads(int n);

inline constexpr int64_t kReduceBlock = 16384;

// f(begin, end) over [begin, end); grain is the smallest chunk worth a thread.
template <class F> void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t max_chunks = grain > 0 ? std::max<int64_t>(1, n / grain) : n;
  const int nt = int(std::min<int64_t>(num_threads(), max_chunks));
  if (nt <= 1 || omp_in_parallel()) {
    f(begin, end);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t tid = omp_get_thread_num(), count = omp_get_num_threads();
    const int64_t chunk = (n + count - 1) / count;
    const int64_t b = begin + tid * chunk, e = std::min(end, b + chunk);
    if (b < e) f(b, e);
  }
}

}  // namespace dlt
