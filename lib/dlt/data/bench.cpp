#include "dlt/data/bench.h"

#include <sys/resource.h>

#include <chrono>

namespace dlt::data {

BenchResult bench_loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options) {
  int64_t stored_per_sample = 0;
  for (const Field& f : dataset->fields()) stored_per_sample += f.sample_bytes();

  BenchResult r;
  const auto start = std::chrono::steady_clock::now();
  {
    Loader loader(std::move(dataset), options);
    while (const auto batch = loader.next()) {
      const int64_t n = batch->fields[0].size(0);
      ++r.batches;
      r.samples += n;
      for (const Tensor& t : batch->fields) r.batch_bytes += t.numel() * int64_t(t.element_size());
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.stored_bytes = r.samples * stored_per_sample;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  r.peak_rss_bytes = int64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
  return r;
}

}  // namespace dlt::data
