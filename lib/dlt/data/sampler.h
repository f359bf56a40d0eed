// The order of samples in each epoch, for one rank of a data-parallel run.
//
// Every rank computes the same global order from (seed, epoch), takes its
// own contiguous part of it (disjoint from the other ranks', all parts the
// same length) and cuts that into batches. A contiguous part, rather than
// every world_size-th sample, keeps a chunk-aware order chunk-local per rank.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace dlt::data {

enum class Shuffle {
  none,     // 0, 1, 2, ...
  full,     // a fresh permutation of all samples each epoch
  chunked,  // shuffle the chunk order, then samples within windows of chunks
};
Shuffle parse_shuffle(std::string_view name);  // "none", "full", "chunked"
std::string_view shuffle_name(Shuffle s);

struct SamplerOptions {
  Shuffle shuffle = Shuffle::full;
  uint64_t seed = 0;
  int64_t window_chunks = 16;  // chunked: chunks whose samples are mixed together
  int64_t rank = 0, world_size = 1;
  bool drop_last = false;      // drop each epoch's last, short batch
};

class Sampler {
 public:
  // `chunk_size`: consecutive samples read together (Dataset::chunk_size()).
  Sampler(int64_t num_samples, int64_t chunk_size, int64_t batch_size, SamplerOptions options);

  // floor(N / world_size): the up to world_size - 1 samples left over are
  // not used in that epoch (which ones changes with each shuffle).
  int64_t samples_per_rank() const { return per_rank_; }
  int64_t batches_per_epoch() const { return batches_; }
  int64_t batch_size() const { return batch_size_; }
  const SamplerOptions& options() const { return options_; }

  // This rank's samples of `epoch` in batch order: batch b is elements
  // [b * batch_size, min((b + 1) * batch_size, size)).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  std::vector<int64_t> global_order(int64_t epoch) const;

  int64_t num_samples_, chunk_size_, batch_size_;
  SamplerOptions options_;
  int64_t per_rank_ = 0, batches_ = 0;
};

}  // namespace dlt::data
