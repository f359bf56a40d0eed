// One HDF5 dataset seen as rows along dim 0, read in blocks of whole rows
// through a shared BlockCache. A block covers whole HDF5 chunks (so a
// compressed chunk is inflated once per read, not once per sample) and is
// at least ~1 MiB (so each call into the locked library does real work).
#pragma once

#include <memory>
#include <string>

#include "dlt/data/block_cache.h"
#include "dlt/data/h5.h"

namespace dlt::data {

class BlockedArray {
 public:
  // Checks that `key` exists, has a supported dtype and at least one row.
  BlockedArray(h5::FilePtr file, const std::string& key, std::shared_ptr<BlockCache> cache);

  const h5::DatasetInfo& info() const { return info_; }
  const std::string& key() const { return info_.key; }
  DType dtype() const { return info_.dtype; }
  Shape row_shape() const { return Shape(info_.shape.begin() + 1, info_.shape.end()); }
  int64_t rows() const { return info_.shape[0]; }
  int64_t row_bytes() const { return row_bytes_; }
  int64_t block_rows() const { return block_rows_; }
  int64_t bytes() const { return rows() * row_bytes_; }

  // Copies rows [start, start + count) into `out`, densely.
  void copy_rows(int64_t start, int64_t count, std::byte* out) const;

 private:
  BlockCache::Block block(int64_t index) const;

  h5::FilePtr file_;
  h5::Id dataset_;
  h5::DatasetInfo info_;
  std::shared_ptr<BlockCache> cache_;
  int source_;
  int64_t row_bytes_, block_rows_;
};

}  // namespace dlt::data
