#include "dlt/data/blocked_array.h"

#include <algorithm>
#include <cstring>

namespace dlt::data {

namespace {

constexpr int64_t kMinBlockBytes = 1 << 20;

}  // namespace

BlockedArray::BlockedArray(h5::FilePtr file, const std::string& key,
                           std::shared_ptr<BlockCache> cache)
    : file_(std::move(file)), dataset_(h5::open_dataset(*file_, key)),
      info_(h5::describe(*file_, dataset_.get(), key)), cache_(std::move(cache)),
      source_(cache_->new_source()) {
  const std::string& path = file_->path;
  DLT_CHECK(info_.supported, "{}: '{}' holds {} values, which dlt cannot load (supported: uint8, "
            "int32, int64, float32, float64)", path, key, info_.type_name);
  DLT_CHECK(!info_.shape.empty(), "{}: '{}' is a scalar; samples must run along dim 0", path, key);
  DLT_CHECK(rows() > 0, "{}: '{}' is empty (shape {})", path, key, shape_str(info_.shape));
  row_bytes_ = numel_of(row_shape()) * int64_t(dtype_size(dtype()));
  DLT_CHECK(row_bytes_ > 0, "{}: '{}' has empty samples (shape {})", path, key,
            shape_str(info_.shape));

  // Whole chunks, as many as make ~1 MiB; contiguous data: ~1 MiB of rows.
  const int64_t unit = info_.chunk.empty() ? 1 : int64_t(info_.chunk[0]);
  const int64_t units = std::max<int64_t>(1, kMinBlockBytes / (unit * row_bytes_));
  block_rows_ = std::min(rows(), unit * units);
}

BlockCache::Block BlockedArray::block(int64_t index) const {
  const int64_t start = index * block_rows_;
  const int64_t count = std::min(block_rows_, rows() - start);
  return cache_->get(source_, index, count * row_bytes_, [&](std::byte* out) {
    h5::read_rows(*file_, dataset_.get(), key(), info_.shape, dtype(), start, count, out);
  });
}

void BlockedArray::copy_rows(int64_t start, int64_t count, std::byte* out) const {
  DLT_ASSERT(start >= 0 && count >= 0 && start + count <= rows());
  while (count > 0) {
    const int64_t b = start / block_rows_, first = start - b * block_rows_;
    const int64_t n = std::min(count, block_rows_ - first);
    const BlockCache::Block bytes = block(b);
    std::memcpy(out, bytes->data.get() + first * row_bytes_, size_t(n * row_bytes_));
    out += n * row_bytes_;
    start += n;
    count -= n;
  }
}

}  // namespace dlt::data
