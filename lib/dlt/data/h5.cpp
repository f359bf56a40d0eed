#include "dlt/data/h5.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace dlt::data::h5 {

void quiet() {
  thread_local const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

std::string last_error() {
  // Walk upward: the first record is the innermost, most specific failure.
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto& m = *static_cast<std::string*>(out);
        if (m.empty() && e->desc && *e->desc) m = e->desc;
        return 0;
      },
      &message);
  return message.empty() ? "unknown HDF5 error" : message;
}

hid_t check(hid_t result, const std::string& context) {
  if (result < 0) throw Error(fmt::format("{}: {}", context, last_error()));
  return result;
}

FilePtr open_file(const std::string& path) {
  quiet();
  DLT_CHECK(std::filesystem::exists(path), "{}: no such file", path);
  DLT_CHECK(!std::filesystem::is_directory(path), "{}: is a directory, not an HDF5 file", path);
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0)
    throw Error(fmt::format("{}: not a readable HDF5 file ({})", path, last_error()));
  return std::make_shared<const File>(File{path, Id(id, H5Fclose)});
}

bool has_dataset(const File& file, const std::string& key) {
  quiet();
  // H5Lexists fails (rather than answering no) when a parent group is
  // missing, so test each prefix of the path.
  for (size_t slash = key.find('/', 1);; slash = key.find('/', slash + 1)) {
    const std::string prefix = key.substr(0, slash);
    if (H5Lexists(file.id.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
  }
  H5O_info_t info;
  if (H5Oget_info_by_name(file.id.get(), key.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

namespace {

// The links of one group, in name order (names only: nothing is opened).
std::vector<std::string> link_names(hid_t group) {
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

}  // namespace

// Two levels deep ("x", "train/images"), which covers the layouts dlt reads
// and writes. Not H5Ovisit: it follows every object of the file, and on a
// damaged file HDF5 crashes inside that walk (found by tests/fuzz/fuzz_hdf5).
std::vector<std::string> list_datasets(const File& file) {
  quiet();
  std::vector<std::string> keys;
  for (const std::string& name : link_names(file.id.get())) {
    H5O_info_t info;
    if (H5Oget_info_by_name(file.id.get(), name.c_str(), &info, H5P_DEFAULT) < 0) continue;
    if (info.type == H5O_TYPE_DATASET) keys.push_back(name);
    if (info.type != H5O_TYPE_GROUP) continue;
    const hid_t group = H5Gopen2(file.id.get(), name.c_str(), H5P_DEFAULT);
    if (group < 0) continue;
    for (const std::string& child : link_names(group)) {
      const std::string key = name + "/" + child;
      if (H5Oget_info_by_name(file.id.get(), key.c_str(), &info, H5P_DEFAULT) >= 0 && info.type == H5O_TYPE_DATASET)
        keys.push_back(key);
    }
    H5Gclose(group);
  }
  return keys;
}

Id open_dataset(const File& file, const std::string& key) {
  quiet();
  if (!has_dataset(file, key)) {
    const auto keys = list_datasets(file);
    throw Error(fmt::format("{}: no dataset '{}' (the file has: {})", file.path, key,
                            keys.empty() ? "no datasets" : fmt::format("{}", fmt::join(keys, ", "))));
  }
  const hid_t id = H5Dopen2(file.id.get(), key.c_str(), H5P_DEFAULT);
  check(id, fmt::format("{}: cannot open dataset '{}'", file.path, key));
  return Id(id, H5Dclose);
}

namespace {

// The DType an HDF5 type maps to without conversion (byte order aside), or
// false with a printable name of the type.
bool map_type(hid_t type, DType& dtype, std::string& name) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      name = fmt::format("{}int{}", is_signed ? "" : "u", size * 8);
      if (!is_signed && size == 1) return dtype = DType::u8, true;
      if (is_signed && size == 4) return dtype = DType::i32, true;
      if (is_signed && size == 8) return dtype = DType::i64, true;
      return false;
    }
    case H5T_FLOAT:
      name = fmt::format("float{}", size * 8);
      if (size == 4) return dtype = DType::f32, true;
      if (size == 8) return dtype = DType::f64, true;
      return false;
    case H5T_STRING: name = "string"; return false;
    case H5T_ENUM: name = "enum"; return false;  // h5py stores bool as an enum
    case H5T_COMPOUND: name = "compound"; return false;
    default: name = "other"; return false;
  }
}

}  // namespace

DatasetInfo describe(const File& file, hid_t dataset, const std::string& key) {
  quiet();
  const std::string where = fmt::format("{}: dataset '{}'", file.path, key);
  DatasetInfo info;
  info.key = key;

  const Id space(check(H5Dget_space(dataset), where), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  check(rank, where);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), where);
  info.shape.assign(dims.begin(), dims.end());

  const Id type(check(H5Dget_type(dataset), where), H5Tclose);
  info.supported = map_type(type.get(), info.dtype, info.type_name);

  const Id plist(check(H5Dget_create_plist(dataset), where), H5Pclose);
  if (H5Pget_layout(plist.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(static_cast<size_t>(rank));
    check(H5Pget_chunk(plist.get(), rank, chunk.data()), where);
    info.chunk.assign(chunk.begin(), chunk.end());
  }
  const int nfilters = H5Pget_nfilters(plist.get());
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, values[8];
    size_t nvalues = 8;
    char name[64] = {};
    const H5Z_filter_t f =
        H5Pget_filter2(plist.get(), unsigned(i), &flags, &nvalues, values, sizeof name, name, nullptr);
    if (f == H5Z_FILTER_DEFLATE)
      info.gzip_level = nvalues > 0 ? int(values[0]) : 0;
    else
      info.other_filters.emplace_back(name[0] ? name : fmt::format("filter {}", f));
  }
  return info;
}

hid_t native_type(DType t) {
  switch (t) {
    case DType::u8: return H5T_NATIVE_UINT8;
    case DType::i32: return H5T_NATIVE_INT32;
    case DType::i64: return H5T_NATIVE_INT64;
    case DType::f32: return H5T_NATIVE_FLOAT;
    case DType::f64: return H5T_NATIVE_DOUBLE;
    default: break;
  }
  throw Error(fmt::format("HDF5 files cannot hold {} in dlt (supported: uint8, int32, int64, "
                          "float32, float64)", t));
}

namespace {

// Reads the hyperslab [start, start + count) of `dataset` into a dense buffer.
void read_slab(hid_t dataset, DType dtype, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, void* out, const std::string& context) {
  const Id file_space(check(H5Dget_space(dataset), context), H5Sclose);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        context);
  const Id mem_space(check(H5Screate_simple(int(count.size()), count.data(), nullptr), context),
                     H5Sclose);
  check(H5Dread(dataset, native_type(dtype), mem_space.get(), file_space.get(), H5P_DEFAULT, out),
        context);
}

}  // namespace

void read_rows(const File& file, hid_t dataset, const std::string& key, const Shape& shape,
               DType dtype, int64_t start, int64_t count, void* out) {
  quiet();
  DLT_ASSERT(!shape.empty() && start >= 0 && count >= 0 && start + count <= shape[0]);
  if (count == 0) return;
  std::vector<hsize_t> offset(shape.size(), 0), extent(shape.begin(), shape.end());
  offset[0] = hsize_t(start);
  extent[0] = hsize_t(count);
  read_slab(dataset, dtype, offset, extent, out,
            fmt::format("{}: reading rows {}..{} of '{}' failed", file.path, start, start + count,
                        key));
}

void read_prefix(hid_t dataset, const Shape& shape, DType dtype, int64_t count, void* out) {
  quiet();
  if (shape.empty()) {
    check(H5Dread(dataset, native_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out),
          "reading a scalar failed");
    return;
  }
  std::vector<hsize_t> offset(shape.size(), 0), extent(shape.size(), 1);
  extent.back() = hsize_t(std::min(count, shape.back()));
  read_slab(dataset, dtype, offset, extent, out, "reading the first values failed");
}

}  // namespace dlt::data::h5

namespace dlt::data::h5 {

namespace {

// The attribute `name` of `object` if it exists, scalar and of `cls`.
std::optional<Id> open_scalar_attribute(const File& file, const std::string& object,
                                        const std::string& name, H5T_class_t cls,
                                        const char* what) {
  quiet();
  const std::string where = fmt::format("{}: attribute '{}' of '{}'", file.path, name, object);
  if (check(hid_t(H5Aexists_by_name(file.id.get(), object.c_str(), name.c_str(), H5P_DEFAULT)), where) <= 0)
    return std::nullopt;
  Id attr(check(H5Aopen_by_name(file.id.get(), object.c_str(), name.c_str(), H5P_DEFAULT,
                                H5P_DEFAULT), where),
          H5Aclose);
  const Id type(check(H5Aget_type(attr.get()), where), H5Tclose);
  const Id space(check(H5Aget_space(attr.get()), where), H5Sclose);
  DLT_CHECK(H5Tget_class(type.get()) == cls && H5Sget_simple_extent_npoints(space.get()) == 1,
            "{} must be one {}", where, what);
  return attr;
}

}  // namespace

std::optional<std::string> read_string_attribute(const File& file, const std::string& object,
                                                 const std::string& name) {
  const auto attr = open_scalar_attribute(file, object, name, H5T_STRING, "string");
  if (!attr) return std::nullopt;
  const std::string where = fmt::format("{}: reading attribute '{}' of '{}'", file.path, name, object);
  const Id type(check(H5Aget_type(attr->get()), where), H5Tclose);
  if (H5Tis_variable_str(type.get()) > 0) {
    char* p = nullptr;
    check(H5Aread(attr->get(), type.get(), &p), where);
    std::string value = p ? p : "";
    H5free_memory(p);
    return value;
  }
  std::string value(H5Tget_size(type.get()), '\0');
  check(H5Aread(attr->get(), type.get(), value.data()), where);
  value.resize(strnlen(value.data(), value.size()));  // fixed-size strings are NUL-padded
  return value;
}

std::optional<int64_t> read_int_attribute(const File& file, const std::string& object,
                                          const std::string& name) {
  const auto attr = open_scalar_attribute(file, object, name, H5T_INTEGER, "integer");
  if (!attr) return std::nullopt;
  int64_t value = 0;
  check(H5Aread(attr->get(), H5T_NATIVE_INT64, &value),
        fmt::format("{}: reading attribute '{}' of '{}'", file.path, name, object));
  return value;
}

}  // namespace dlt::data::h5
