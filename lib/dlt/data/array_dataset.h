// Samples stored as rows of one or more HDF5 datasets (x, y, ...) of equal
// length: any rank and supported dtype, contiguous or chunked/compressed.
// Sample shapes and dtypes come from the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dlt/data/blocked_array.h"
#include "dlt/data/dataset.h"

namespace dlt::data {

// Holds Fashion-MNIST (55 MB) or CIFAR-10 (180 MB) whole, or a few shuffle
// windows of a bigger file. Peak RSS runs to about 1.5x this plus the
// batches in flight, as malloc keeps freed blocks for reuse.
inline constexpr int64_t kDefaultCacheBytes = int64_t(256) << 20;

class ArrayDataset final : public Dataset {
 public:
  // `keys`: one HDF5 dataset per field, e.g. {"train/images", "train/labels"}.
  ArrayDataset(const std::string& path, const std::vector<std::string>& keys,
               int64_t cache_bytes = kDefaultCacheBytes);

  int64_t size() const override { return arrays_.front().rows(); }
  const std::vector<Field>& fields() const override { return fields_; }
  std::string describe() const override;
  int64_t chunk_size() const override;
  int64_t bytes() const override;
  int64_t cache_bytes() const override { return cache_->capacity(); }
  void read(std::span<const int64_t> indices, int64_t epoch,
            std::span<std::byte* const> out) const override;

 private:
  h5::FilePtr file_;
  std::shared_ptr<BlockCache> cache_;
  std::vector<BlockedArray> arrays_;
  std::vector<Field> fields_;
};

}  // namespace dlt::data
