#include "dlt/data/h5_writer.h"

#include <algorithm>
#include <filesystem>

namespace dlt::data {

namespace fs = std::filesystem;
using h5::check;
using h5::Id;

namespace {

constexpr int64_t kAutoChunkBytes = 1 << 20;   // what "compress without --chunk-rows" picks
constexpr int64_t kMaxChunkBytes = int64_t(1) << 32;  // HDF5's limit per chunk

std::vector<hsize_t> dims_of(const Shape& shape) { return {shape.begin(), shape.end()}; }

}  // namespace

H5Writer::H5Writer(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
  h5::quiet();
  const fs::path parent = fs::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  DLT_CHECK(!ec, "{}: cannot create folder {}: {}", path_, parent.string(), ec.message());
  const hid_t id = H5Fcreate(partial_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  check(id, fmt::format("{}: cannot create file", partial_));
  file_ = Id(id, H5Fclose);
}

H5Writer::~H5Writer() {
  if (committed_) return;
  file_ = Id();
  std::error_code ec;
  fs::remove(partial_, ec);
}

H5Writer::Array H5Writer::create(const std::string& key, DType dtype, const Shape& shape,
                                 const Layout& layout) {
  h5::quiet();
  const std::string where = fmt::format("{}: creating '{}'", path_, key);
  DLT_CHECK(!shape.empty(), "{}: a dataset needs at least one dim (samples)", where);
  DLT_CHECK(layout.compress >= 0 && layout.compress <= 9, "{}: gzip level must be 0-9, got {}",
            where, layout.compress);
  DLT_CHECK(layout.chunk_rows >= 0, "{}: chunk rows must be >= 0, got {}", where,
            layout.chunk_rows);

  const Id dcpl(check(H5Pcreate(H5P_DATASET_CREATE), where), H5Pclose);
  const int64_t rows = shape[0];
  const int64_t row_bytes = numel_of(Shape(shape.begin() + 1, shape.end())) * int64_t(dtype_size(dtype));
  const bool chunked = rows > 0 && row_bytes > 0 && (layout.chunk_rows > 0 || layout.compress > 0);
  if (chunked) {
    int64_t chunk_rows = layout.chunk_rows > 0 ? layout.chunk_rows
                                               : std::max<int64_t>(1, kAutoChunkBytes / row_bytes);
    chunk_rows = std::min(chunk_rows, rows);
    DLT_CHECK(chunk_rows * row_bytes < kMaxChunkBytes,
              "{}: chunks of {} rows would be {} bytes, over HDF5's 4 GiB limit", where,
              chunk_rows, chunk_rows * row_bytes);
    std::vector<hsize_t> chunk = dims_of(shape);
    chunk[0] = hsize_t(chunk_rows);
    check(H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()), where);
    if (layout.compress > 0) check(H5Pset_deflate(dcpl.get(), unsigned(layout.compress)), where);
  } else {
    check(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), where);
  }

  const std::vector<hsize_t> dims = dims_of(shape);
  const Id space(check(H5Screate_simple(int(dims.size()), dims.data(), nullptr), where), H5Sclose);
  const Id lcpl(check(H5Pcreate(H5P_LINK_CREATE), where), H5Pclose);
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), where);
  const hid_t id = H5Dcreate2(file_.get(), key.c_str(), h5::native_type(dtype), space.get(),
                              lcpl.get(), dcpl.get(), H5P_DEFAULT);
  check(id, where);
  return Array(this, key, dtype, shape, Id(id, H5Dclose));
}

void H5Writer::Array::write_rows(int64_t start, int64_t count, const void* data) {
  h5::quiet();
  DLT_ASSERT(start >= 0 && count >= 0 && start + count <= shape_[0]);
  if (count == 0) return;
  const std::string where = fmt::format("{}: writing rows {}..{} of '{}'", writer_->path_, start,
                                        start + count, key_);
  std::vector<hsize_t> offset(shape_.size(), 0), extent = dims_of(shape_);
  offset[0] = hsize_t(start);
  extent[0] = hsize_t(count);
  const Id file_space(check(H5Dget_space(id_.get()), where), H5Sclose);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr,
                            extent.data(), nullptr),
        where);
  const Id mem_space(check(H5Screate_simple(int(extent.size()), extent.data(), nullptr), where),
                     H5Sclose);
  check(H5Dwrite(id_.get(), h5::native_type(dtype_), mem_space.get(), file_space.get(),
                 H5P_DEFAULT, data),
        where);
}

void H5Writer::write(const std::string& key, DType dtype, const Shape& shape, const void* data,
                     const Layout& layout) {
  create(key, dtype, shape, layout).write_rows(0, shape[0], data);
}

Id H5Writer::open_object(const std::string& object) const {
  const hid_t id = H5Oopen(file_.get(), object.c_str(), H5P_DEFAULT);
  check(id, fmt::format("{}: no object '{}' for an attribute", path_, object));
  return Id(id, H5Oclose);
}

void H5Writer::write_attribute(const std::string& object, const std::string& name, hid_t type,
                               const Shape& shape, const void* data) {
  h5::quiet();
  const std::string where = fmt::format("{}: writing attribute '{}' of '{}'", path_, name, object);
  const Id obj = open_object(object);
  const std::vector<hsize_t> dims = dims_of(shape);
  const Id space(check(shape.empty() ? H5Screate(H5S_SCALAR)
                                     : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                       where),
                 H5Sclose);
  const Id attr(check(H5Acreate2(obj.get(), name.c_str(), type, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT),
                      where),
                H5Aclose);
  check(H5Awrite(attr.get(), type, data), where);
}

namespace {

// Variable-length UTF-8 strings: what h5py reads back as str.
Id utf8_string_type() {
  const Id type(check(H5Tcopy(H5T_C_S1), "string type"), H5Tclose);
  check(H5Tset_size(type.get(), H5T_VARIABLE), "string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "string type");
  return Id(H5Tcopy(type.get()), H5Tclose);
}

}  // namespace

void H5Writer::set_attribute(const std::string& object, const std::string& name,
                             const std::string& value) {
  h5::quiet();
  const char* p = value.c_str();
  write_attribute(object, name, utf8_string_type().get(), {}, &p);
}

void H5Writer::set_attribute(const std::string& object, const std::string& name,
                             const std::vector<std::string>& values) {
  h5::quiet();
  std::vector<const char*> ps;
  for (const std::string& v : values) ps.push_back(v.c_str());
  write_attribute(object, name, utf8_string_type().get(), {int64_t(values.size())}, ps.data());
}

void H5Writer::set_attribute(const std::string& object, const std::string& name, int64_t value) {
  write_attribute(object, name, H5T_NATIVE_INT64, {}, &value);
}

void H5Writer::set_attribute(const std::string& object, const std::string& name, double value) {
  write_attribute(object, name, H5T_NATIVE_DOUBLE, {}, &value);
}

void H5Writer::commit() {
  h5::quiet();
  DLT_ASSERT(!committed_);
  // An Array still alive would keep the file open past the rename.
  DLT_ASSERT(H5Fget_obj_count(file_.get(), H5F_OBJ_ALL) == 1, "close every Array before commit()");
  check(H5Fclose(file_.release()), fmt::format("{}: closing", partial_));
  std::error_code ec;
  fs::rename(partial_, path_, ec);
  DLT_CHECK(!ec, "{}: cannot move {} into place: {}", path_, partial_, ec.message());
  committed_ = true;
}

}  // namespace dlt::data
