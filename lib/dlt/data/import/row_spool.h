// Fixed-size rows parked in a raw file until their count is known: an HDF5
// dataset's shape is fixed when it is created, and an import that skips
// files learns how many rows it has only at the end. Memory stays at one
// copy block however many rows pass through.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dlt::data {

class RowSpool {
 public:
  explicit RowSpool(std::string path);  // creates (truncates) the file
  ~RowSpool();                          // closes and removes it
  RowSpool(const RowSpool&) = delete;
  RowSpool& operator=(const RowSpool&) = delete;

  void set_row_bytes(int64_t bytes);  // once, before the first append
  int64_t row_bytes() const { return row_bytes_; }
  int64_t rows() const { return rows_; }

  void append(const uint8_t* row);
  // Rows [start, start + count) into `out`.
  void read(int64_t start, int64_t count, uint8_t* out) const;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t row_bytes_ = 0, rows_ = 0;
  mutable bool reading_ = false;
};

}  // namespace dlt::data
