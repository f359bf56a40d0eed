#include "dlt/data/inspect.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "dlt/data/dataset.h"
#include "dlt/data/h5.h"
#include "dlt/data/tokenizer.h"

namespace dlt::data {

namespace {

using h5::check;
using h5::Id;

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  for (; b >= 1024 && u < 4; ++u) b /= 1024;
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

// "a, b, c, ..." of the first `limit` of `values`, each through `show`.
template <class T, class F>
std::string list(const std::vector<T>& values, size_t limit, F show) {
  std::string s;
  for (size_t i = 0; i < values.size() && i < limit; ++i) s += (i ? ", " : "") + show(values[i]);
  if (values.size() > limit) s += ", ...";
  return s;
}

// A string as a quoted literal, control characters escaped.
std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (const char c : s) {
    if (c == '\n') q += "\\n";
    else if (c == '\t') q += "\\t";
    else if (c == '"' || c == '\\') q += std::string("\\") + c;
    else if (uint8_t(c) < 0x20) q += fmt::format("\\x{:02x}", uint8_t(c));
    else q += c;
  }
  return q + "\"";
}

// An attribute's value: strings quoted, numbers as numbers, arrays in [].
std::string attribute_value(hid_t attr) {
  const Id type(check(H5Aget_type(attr), "attribute type"), H5Tclose);
  const Id space(check(H5Aget_space(attr), "attribute space"), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const bool scalar = H5Sget_simple_extent_ndims(space.get()) == 0;
  std::string shown;
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      std::vector<std::string> strings;
      if (H5Tis_variable_str(type.get()) > 0) {
        std::vector<char*> ptrs(static_cast<size_t>(n));
        check(H5Aread(attr, type.get(), ptrs.data()), "reading attribute");
        for (char* p : ptrs) strings.emplace_back(p ? p : "");
        H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
      } else {
        const size_t len = H5Tget_size(type.get());
        std::vector<char> buf(len * size_t(n));
        check(H5Aread(attr, type.get(), buf.data()), "reading attribute");
        for (hssize_t i = 0; i < n; ++i) {
          const char* p = buf.data() + size_t(i) * len;
          strings.emplace_back(p, strnlen(p, len));
        }
      }
      shown = list(strings, 12, quoted);
      break;
    }
    case H5T_INTEGER: {
      std::vector<int64_t> v(static_cast<size_t>(n));
      check(H5Aread(attr, H5T_NATIVE_INT64, v.data()), "reading attribute");
      shown = list(v, 12, [](int64_t x) { return fmt::format("{}", x); });
      break;
    }
    case H5T_FLOAT: {
      std::vector<double> v(static_cast<size_t>(n));
      check(H5Aread(attr, H5T_NATIVE_DOUBLE, v.data()), "reading attribute");
      shown = list(v, 12, [](double x) { return fmt::format("{:.6g}", x); });
      break;
    }
    default: return "(a value of another type)";
  }
  return scalar ? shown : fmt::format("[{}] ({} values)", shown, n);
}

void print_attributes(std::string& out, hid_t object, const std::string& indent) {
  struct Ctx {
    std::string* out;
    const std::string* indent;
  } ctx{&out, &indent};
  H5Aiterate2(
      object, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t obj, const char* name, const H5A_info_t*, void* p) -> herr_t {
        auto& c = *static_cast<Ctx*>(p);
        const Id attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
        *c.out += fmt::format("{}@{} = {}\n", *c.indent, name,
                              attr.get() < 0 ? "(unreadable)" : attribute_value(attr.get()));
        return 0;
      },
      &ctx);
}

// The first values of a dataset, formatted for its dtype.
std::string first_values(hid_t dataset, const h5::DatasetInfo& info, int count) {
  if (!info.supported || numel_of(info.shape) == 0) return {};
  return visit_stored(info.dtype, [&]<class T>() {
    std::vector<T> v(static_cast<size_t>(count));
    h5::read_prefix(dataset, info.shape, info.dtype, count, v.data());
    const int64_t n = info.shape.empty() ? 1 : std::min<int64_t>(count, info.shape.back());
    v.resize(size_t(n));
    std::vector<std::string> shown;
    for (const T x : v) {
      if constexpr (std::is_floating_point_v<T>)
        shown.push_back(fmt::format("{:.4g}", x));
      else
        shown.push_back(fmt::format("{}", int64_t(x)));
    }
    if (numel_of(info.shape) > n) shown.push_back("...");
    return fmt::format("{}", fmt::join(shown, " "));
  });
}

// "min 0, max 255, mean 72.94" over sample 0 (row 0) of a rank >= 2 dataset.
std::string first_sample_stats(const h5::File& file, hid_t dataset, const h5::DatasetInfo& info) {
  if (!info.supported || info.shape.size() < 2 || info.shape[0] == 0) return {};
  const int64_t n = numel_of(Shape(info.shape.begin() + 1, info.shape.end()));
  if (n == 0 || n > (int64_t(1) << 24)) return {};
  return visit_stored(info.dtype, [&]<class T>() {
    std::vector<T> v(static_cast<size_t>(n));
    h5::read_rows(file, dataset, info.key, info.shape, info.dtype, 0, 1, v.data());
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    double sum = 0;
    for (const T x : v) sum += double(x);
    return fmt::format("min {}, max {}, mean {:.4g}", *lo, *hi, sum / double(n));
  });
}

struct Walker {
  const h5::File& file;
  const InspectOptions& options;
  std::string out;

  void dataset(const std::string& key, const std::string& name, const std::string& indent) {
    const Id ds = h5::open_dataset(file, key);
    const h5::DatasetInfo info = h5::describe(file, ds.get(), key);
    std::string layout = info.chunk.empty() ? "contiguous" : fmt::format("chunks {}", shape_str(info.chunk));
    if (info.gzip_level >= 0) layout += fmt::format(", gzip {}", info.gzip_level);
    for (const std::string& f : info.other_filters) layout += ", " + f;
    out += fmt::format("{}{}: {}{} {}, {}, {} stored\n", indent, name, info.type_name,
                       info.supported ? "" : " (unsupported)", shape_str(info.shape), layout,
                       human_bytes(double(H5Dget_storage_size(ds.get()))));
    if (options.attributes) print_attributes(out, ds.get(), indent + "    ");
    if (options.values > 0) {
      const std::string v = first_values(ds.get(), info, options.values);
      if (!v.empty()) out += fmt::format("{}    first values: {}\n", indent, v);
      const std::string stats = first_sample_stats(file, ds.get(), info);
      if (!stats.empty()) out += fmt::format("{}    sample 0: {}\n", indent, stats);
    }
  }

  void group(const std::string& path, const std::string& indent) {
    const Id g(check(H5Gopen2(file.id.get(), path.c_str(), H5P_DEFAULT),
                     fmt::format("{}: opening group '{}'", file.path, path)),
               H5Gclose);
    if (options.attributes) print_attributes(out, g.get(), indent);
    std::vector<std::string> names;
    H5Literate(
        g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* p) -> herr_t {
          static_cast<std::vector<std::string>*>(p)->push_back(name);
          return 0;
        },
        &names);
    for (const std::string& name : names) {
      const std::string key = path == "/" ? name : path + "/" + name;
      H5O_info_t info;
      if (H5Oget_info_by_name(file.id.get(), key.c_str(), &info, H5P_DEFAULT) < 0) {
        out += fmt::format("{}{}: (a link that leads nowhere: {})\n", indent, name, h5::last_error());
      } else if (info.type == H5O_TYPE_GROUP) {
        out += fmt::format("{}{}/\n", indent, name);
        group(key, indent + "  ");
      } else if (info.type == H5O_TYPE_DATASET) {
        dataset(key, name, indent);
      }
    }
  }
};

// "  tokenizer: chars (73)" for token files (those with @vocab), else nothing.
std::string tokenizer_line(const h5::File& file) {
  try {
    if (!h5::read_string_attribute(file, "/", "vocab")) return {};
    return fmt::format("  tokenizer: {}\n", load_tokenizer(file.path)->describe());
  } catch (const Error& e) {  // show the rest of the file all the same
    return fmt::format("  tokenizer: unreadable ({})\n", e.what());
  }
}

}  // namespace

std::string inspect(const std::string& path, const InspectOptions& options) {
  const h5::FilePtr file = h5::open_file(path);
  Walker w{*file, options, fmt::format("{} ({})\n", path,
                                       human_bytes(double(std::filesystem::file_size(path))))};
  w.out += tokenizer_line(*file);
  w.group("/", "  ");
  return w.out;
}

}  // namespace dlt::data
