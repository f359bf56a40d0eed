#include "dlt/data/sampler.h"

#include <algorithm>
#include <numeric>

#include "dlt/core/error.h"
#include "dlt/data/random.h"

namespace dlt::data {

Shuffle parse_shuffle(std::string_view name) {
  if (name == "none") return Shuffle::none;
  if (name == "full") return Shuffle::full;
  if (name == "chunked") return Shuffle::chunked;
  throw Error(fmt::format("unknown shuffle '{}' (expected none, full or chunked)", name));
}

std::string_view shuffle_name(Shuffle s) {
  switch (s) {
    case Shuffle::none: return "none";
    case Shuffle::full: return "full";
    case Shuffle::chunked: return "chunked";
  }
  return "?";
}

Sampler::Sampler(int64_t num_samples, int64_t chunk_size, int64_t batch_size,
                 SamplerOptions options)
    : num_samples_(num_samples), chunk_size_(chunk_size), batch_size_(batch_size),
      options_(options) {
  const auto& o = options_;
  DLT_CHECK(batch_size > 0, "batch size must be positive, got {}", batch_size);
  DLT_CHECK(o.world_size >= 1 && o.rank >= 0 && o.rank < o.world_size,
            "rank {} is not in a world of {}", o.rank, o.world_size);
  DLT_CHECK(o.window_chunks >= 1, "the shuffle window must hold at least one chunk, got {}",
            o.window_chunks);
  DLT_ASSERT(num_samples > 0 && chunk_size > 0);
  DLT_CHECK(!o.drop_last || batch_size <= num_samples,
            "batch size {} is larger than the {} samples of the dataset, so drop_last would leave no batch",
            batch_size, num_samples);
  batches_ = o.drop_last ? num_samples / batch_size : (num_samples + batch_size - 1) / batch_size;
  used_ = o.drop_last ? batches_ * batch_size : num_samples;
}

std::vector<int64_t> Sampler::global_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(num_samples_));
  std::iota(order.begin(), order.end(), 0);
  const uint64_t seed = options_.seed;
  switch (options_.shuffle) {
    case Shuffle::none: break;
    case Shuffle::full: shuffle(std::span(order), seed, Stream::permutation, epoch); break;
    case Shuffle::chunked: {
      // Chunks in a random order; then the samples of each window of
      // window_chunks consecutive chunks (in that order) mixed together. A
      // window is read whole once, so memory stays at a window, not the file.
      const int64_t chunks = (num_samples_ + chunk_size_ - 1) / chunk_size_;
      std::vector<int64_t> chunk_order(static_cast<size_t>(chunks));
      std::iota(chunk_order.begin(), chunk_order.end(), 0);
      shuffle(std::span(chunk_order), seed, Stream::chunk_order, epoch);
      size_t pos = 0;
      for (int64_t c = 0; c < chunks; c += options_.window_chunks) {
        const size_t window_start = pos;
        for (int64_t k = c; k < std::min(chunks, c + options_.window_chunks); ++k) {
          const int64_t first = chunk_order[size_t(k)] * chunk_size_;
          for (int64_t i = first; i < std::min(num_samples_, first + chunk_size_); ++i)
            order[pos++] = i;
        }
        // Counters start at the window's position, so windows draw disjoint words.
        shuffle(std::span(order).subspan(window_start, pos - window_start), seed,
                Stream::chunk_window, epoch, window_start);
      }
      break;
    }
  }
  return order;
}

std::vector<int64_t> Sampler::epoch_order(int64_t epoch) const {
  DLT_CHECK(epoch >= 0, "epoch must be >= 0, got {}", epoch);
  std::vector<int64_t> order = global_order(epoch);
  order.resize(size_t(used_));
  return order;
}

Sampler::Slice Sampler::batch_slice(int64_t b) const {
  DLT_ASSERT(b >= 0 && b < batches_, "batch {} of an epoch of {}", b, batches_);
  const int64_t first = b * batch_size_, n = std::min(batch_size_, used_ - first);
  const int64_t r = options_.rank, w = options_.world_size;
  return {first + r * n / w, first + (r + 1) * n / w, n};
}

}  // namespace dlt::data
