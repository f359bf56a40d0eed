#include "dlt/data/array_dataset.h"

#include <algorithm>

namespace dlt::data {

ArrayDataset::ArrayDataset(const std::string& path, const std::vector<std::string>& keys,
                           int64_t cache_bytes)
    : file_(h5::open_file(path)), cache_(std::make_shared<BlockCache>(cache_bytes)) {
  DLT_CHECK(!keys.empty(), "{}: no dataset keys given", path);
  for (const std::string& key : keys) {
    arrays_.emplace_back(file_, key, cache_);
    const BlockedArray& a = arrays_.back();
    DLT_CHECK(a.rows() == arrays_.front().rows(), "{}: '{}' has {} samples but '{}' has {}", path,
              arrays_.front().key(), arrays_.front().rows(), key, a.rows());
    fields_.push_back({key, a.dtype(), a.row_shape()});
  }
}

std::string ArrayDataset::describe() const {
  std::vector<std::string> keys;
  for (const Field& f : fields_) keys.push_back(f.name);
  return fmt::format("{} [{}]", file_->path, fmt::join(keys, ", "));
}

int64_t ArrayDataset::chunk_size() const {
  // The heaviest field decides what is cheap to read together.
  const auto heaviest = std::max_element(arrays_.begin(), arrays_.end(), [](auto& a, auto& b) {
    return a.row_bytes() < b.row_bytes();
  });
  return heaviest->block_rows();
}

int64_t ArrayDataset::bytes() const {
  int64_t total = 0;
  for (const BlockedArray& a : arrays_) total += a.bytes();
  return total;
}

void ArrayDataset::read(std::span<const int64_t> indices, int64_t,
                        std::span<std::byte* const> out) const {
  DLT_ASSERT(out.size() == arrays_.size());
  // Runs of consecutive indices (a sequential order) are copied in one go.
  for (size_t i = 0, run; i < indices.size(); i += run) {
    DLT_CHECK(indices[i] >= 0 && indices[i] < size(), "{}: sample {} is out of range [0, {})",
              describe(), indices[i], size());
    for (run = 1; i + run < indices.size() && indices[i + run] == indices[i] + int64_t(run) &&
                  indices[i + run] < size();
         ++run) {
    }
    for (size_t f = 0; f < arrays_.size(); ++f) {
      const BlockedArray& a = arrays_[f];
      a.copy_rows(indices[i], int64_t(run), out[f] + int64_t(i) * a.row_bytes());
    }
  }
}

}  // namespace dlt::data
