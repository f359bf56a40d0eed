// Windows of a long token stream for language models: sample i is a window
// of block_size + 1 tokens, x = window[:-1] and y = window[1:] (both int64),
// so y[t] is the token that follows x[t].
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dlt/data/array_dataset.h"

namespace dlt::data {

struct TokenWindows {
  int64_t block_size = 256;     // T: tokens in x and in y
  // false: window i starts at i * T (the windows tile the stream);
  // true: at a uniformly random offset drawn from (seed, epoch, i), as
  // nanoGPT's get_batch does. Random offsets need the stream in memory.
  bool random_offsets = false;
  uint64_t seed = 0;
};

class TokenDataset final : public Dataset {
 public:
  // `key`: a 1-D dataset of integer token ids (uint8, int32 or int64).
  TokenDataset(const std::string& path, const std::string& key, TokenWindows windows,
               int64_t cache_bytes = kDefaultCacheBytes);

  // floor((L - 1) / T) windows either way, so an epoch covers the stream once.
  int64_t size() const override { return (stream_.rows() - 1) / windows_.block_size; }
  const std::vector<Field>& fields() const override { return fields_; }
  std::string describe() const override;
  int64_t chunk_size() const override;
  int64_t bytes() const override { return stream_.bytes(); }
  int64_t cache_bytes() const override { return cache_->capacity(); }
  void read(std::span<const int64_t> indices, int64_t epoch,
            std::span<std::byte* const> out) const override;

  // Where window i of `epoch` starts in the stream.
  int64_t offset(int64_t i, int64_t epoch) const;

 private:
  h5::FilePtr file_;
  std::shared_ptr<BlockCache> cache_;
  BlockedArray stream_;
  TokenWindows windows_;
  std::vector<Field> fields_;
};

}  // namespace dlt::data
