// Writing HDF5 files (for the importers and tests): datasets with a chosen
// layout, written whole or slab by slab, and attributes. The file is built
// as "<path>.partial" and renamed by commit(), so a failed import never
// leaves a half-written file where a good one is expected.
#pragma once

#include <string>
#include <vector>

#include "dlt/data/h5.h"

namespace dlt::data {

// How a dataset is stored. Contiguous and uncompressed reads fastest;
// chunks (along dim 0) allow compression, and the chunk-aware sampler reads
// and shuffles in units of whole chunks.
struct Layout {
  int64_t chunk_rows = 0;  // 0: contiguous, or ~1 MiB chunks when compressing
  int compress = 0;        // gzip level 1-9; 0: none
};

class H5Writer {
 public:
  explicit H5Writer(std::string path);  // makes missing parent folders
  ~H5Writer();                          // removes the partial file unless committed
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // A dataset being filled row slab by row slab.
  class Array {
   public:
    // Rows [start, start + count) along dim 0 from dense `data`.
    void write_rows(int64_t start, int64_t count, const void* data);

   private:
    friend class H5Writer;
    Array(const H5Writer* w, std::string key, DType dtype, Shape shape, h5::Id id)
        : writer_(w), key_(std::move(key)), dtype_(dtype), shape_(std::move(shape)),
          id_(std::move(id)) {}
    const H5Writer* writer_;
    std::string key_;
    DType dtype_;
    Shape shape_;
    h5::Id id_;
  };

  // Creates `key` (and its parent groups). Samples run along dim 0.
  Array create(const std::string& key, DType dtype, const Shape& shape, const Layout& layout = {});
  // Creates `key` and writes all of `data` (dense, row-major).
  void write(const std::string& key, DType dtype, const Shape& shape, const void* data,
             const Layout& layout = {});

  // Attributes of a group or dataset ("/" is the root); strings are UTF-8.
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<std::string>& values);
  void set_attribute(const std::string& object, const std::string& name, int64_t value);
  void set_attribute(const std::string& object, const std::string& name, double value);

  // Closes the file (and any dataset still open) and moves it into place.
  void commit();
  const std::string& path() const { return path_; }

 private:
  h5::Id open_object(const std::string& object) const;
  void write_attribute(const std::string& object, const std::string& name, hid_t type,
                       const Shape& shape, const void* data);

  std::string path_, partial_;
  h5::Id file_;
  bool committed_ = false;
};

}  // namespace dlt::data
