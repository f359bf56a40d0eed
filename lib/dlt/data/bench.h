// Loader throughput for `dlt data bench`: one loader run to its end, timed
// from construction (so a full shuffle's first fill of the cache counts).
#pragma once

#include <memory>

#include "dlt/data/loader.h"

namespace dlt::data {

struct BenchResult {
  int64_t batches = 0, samples = 0;
  int64_t stored_bytes = 0;  // bytes of the dataset's own samples delivered
  int64_t batch_bytes = 0;   // bytes of the batch tensors produced
  double seconds = 0;
  int64_t peak_rss_bytes = 0;  // of the whole process so far
};

BenchResult bench_loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options);

}  // namespace dlt::data
