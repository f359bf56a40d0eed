// The order of samples in each epoch, for one rank of a data-parallel run.
//
// Every rank computes the same global order from (seed, epoch) and cuts it
// into the same global batches of `batch_size`; rank r of W takes the slice
// [floor(r * n / W), floor((r + 1) * n / W)) of each global batch of n
// samples. The batches are therefore a function of (seed, epoch, batch)
// alone, whatever the world size: a run may resume on another number of
// ranks. A short last batch (drop_last false) is split the same way, so some
// ranks may get fewer samples than others, or none (the trainer weights
// each rank's loss by its share).
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

  int64_t batches_per_epoch() const { return batches_; }
  int64_t batch_size() const { return batch_size_; }
  const SamplerOptions& options() const { return options_; }

  // The samples of `epoch` the global batches take, in batch order (all
  // ranks'): global batch b is elements [b * batch_size, min((b + 1) *
  // batch_size, size)).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  struct Slice {
    int64_t begin = 0, end = 0;  // this rank's part of batch b, as positions in epoch_order
    int64_t global = 0;          // samples of the global batch (all ranks)
  };
  Slice batch_slice(int64_t b) const;

 private:
  std::vector<int64_t> global_order(int64_t epoch) const;

  int64_t num_samples_, chunk_size_, batch_size_;
  SamplerOptions options_;
  int64_t used_ = 0, batches_ = 0;  // samples of an epoch the batches take
};

}  // namespace dlt::data
