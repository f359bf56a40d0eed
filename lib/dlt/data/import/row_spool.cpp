#include "dlt/data/import/row_spool.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dlt/core/error.h"

namespace dlt::data {

RowSpool::RowSpool(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "w+b");
  DLT_CHECK(file_ != nullptr, "{}: cannot create: {}", path_, std::strerror(errno));
}

RowSpool::~RowSpool() {
  std::fclose(file_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void RowSpool::set_row_bytes(int64_t bytes) {
  DLT_ASSERT(row_bytes_ == 0 && bytes > 0);
  row_bytes_ = bytes;
}

void RowSpool::append(const uint8_t* row) {
  DLT_ASSERT(row_bytes_ > 0);
  // A stdio stream must seek between reading and writing; appends alone stay buffered.
  const bool at_end = !reading_ || ::fseeko(file_, off_t(rows_ * row_bytes_), SEEK_SET) == 0;
  reading_ = false;
  DLT_CHECK(at_end && std::fwrite(row, 1, size_t(row_bytes_), file_) == size_t(row_bytes_),
            "{}: cannot write: {}", path_, std::strerror(errno));
  ++rows_;
}

void RowSpool::read(int64_t start, int64_t count, uint8_t* out) const {
  DLT_ASSERT(start >= 0 && count >= 0 && start + count <= rows_);
  const size_t bytes = size_t(count * row_bytes_);
  reading_ = true;
  DLT_CHECK(::fseeko(file_, off_t(start * row_bytes_), SEEK_SET) == 0 &&
                std::fread(out, 1, bytes, file_) == bytes,
            "{}: cannot read back: {}", path_, std::strerror(errno));
}

}  // namespace dlt::data
