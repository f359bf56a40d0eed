// A thin layer over the HDF5 1.10 C API: owned identifiers, errors turned
// into dlt::Error, element types mapped to dlt::DType, and row reads.
//
// Debian's HDF5 is built thread-safe with one global lock: every H5 call,
// reads and decompression included, runs alone. Callers therefore read big
// slabs per call and do per-sample work outside the library.
#pragma once

#include <hdf5.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dlt/core/dtype.h"
#include "dlt/core/shape.h"

namespace dlt::data::h5 {

// An owned HDF5 identifier, closed by its matching H5?close.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  // Gives up ownership, e.g. to check the result of closing.
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Turns off HDF5's automatic error printing for the calling thread (the
// thread-safe build keeps one error stack, and one setting, per thread).
// Every function here calls it; code calling H5 directly must too.
void quiet();

// The innermost message on the calling thread's HDF5 error stack, e.g.
// "truncated file: eof = 96, sblock->base_addr = 0, stored_eof = 2144".
std::string last_error();

// A negative HDF5 result becomes dlt::Error("<context>: <hdf5 detail>").
hid_t check(hid_t result, const std::string& context);
inline void check(herr_t result, const std::string& context) { check(hid_t(result), context); }

// An open file, shared by every dataset read from it.
struct File {
  std::string path;
  Id id;
};
using FilePtr = std::shared_ptr<const File>;

// Opens an existing file read-only. Missing, non-HDF5 and truncated files
// are user errors naming the path.
FilePtr open_file(const std::string& path);

// Where a dataset lives and how it is stored.
struct DatasetInfo {
  std::string key;        // "train/images"
  Shape shape;            // [60000, 28, 28]; empty for a scalar
  std::string type_name;  // "uint8", "float32", "uint16", "string", ...
  bool supported = false; // whether type_name maps to a DType
  DType dtype = DType::u8;
  Shape chunk;            // empty when contiguous or compact
  int gzip_level = -1;    // -1: not gzip-compressed
  std::vector<std::string> other_filters;  // "shuffle", "szip", ...
};

// Whether `key` names a dataset in the file (intermediate groups may be missing).
bool has_dataset(const File& file, const std::string& key);
// The datasets of the file up to two levels deep ("x", "train/images"), by
// key, in name order.
std::vector<std::string> list_datasets(const File& file);
// Opens a dataset; a missing key is a user error listing the keys there are.
Id open_dataset(const File& file, const std::string& key);
DatasetInfo describe(const File& file, hid_t dataset, const std::string& key);

// The memory type HDF5 converts to when reading or writing `t`.
hid_t native_type(DType t);

// Reads rows [start, start + count) along dim 0 into `out`, which holds
// count x (product of the other dims) elements of `dtype`. One H5Dread.
void read_rows(const File& file, hid_t dataset, const std::string& key, const Shape& shape,
               DType dtype, int64_t start, int64_t count, void* out);

// Reads the first min(count, last dim) values of element [0, ..., 0, :], the
// start of the first row (a scalar gives its one value). For inspect.
void read_prefix(hid_t dataset, const Shape& shape, DType dtype, int64_t count, void* out);

// A scalar string or integer attribute of `object` ("/": the root group);
// nullopt when there is none of that name. An attribute of another type or
// shape is an error naming the file, object and attribute.
std::optional<std::string> read_string_attribute(const File& file, const std::string& object,
                                                 const std::string& name);
std::optional<int64_t> read_int_attribute(const File& file, const std::string& object,
                                          const std::string& name);

}  // namespace dlt::data::h5
