#include "dlt/train/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>

#include "dlt/ops/ops.h"
#include "dlt/train/file_io.h"
#include "dlt/train/json.h"

namespace dlt::train {

namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the reference reader's limit
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  std::string_view name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
    {DType::i64, "I64"}, {DType::i32, "I32"}, {DType::u8, "U8"},   {DType::boolean, "BOOL"},
};

std::optional<DType> parse_safetensors_dtype(std::string_view name) {
  for (const auto& d : kDTypeNames)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

// One tensor's header entry, checked against the data length.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& name, const Json& j, uint64_t data_bytes) {
  const std::string what = fmt::format("tensor \"{}\"", name);
  for (const auto& [key, value] : j.members(what))
    DLT_CHECK(key == "dtype" || key == "shape" || key == "data_offsets",
              "{}: unknown key \"{}\" (expected dtype, shape, data_offsets)", what, key);
  Entry e{name, DType::f32, {}, 0, 0};

  const std::string& dtype = j.at("dtype").as_string(what + " dtype");
  const auto dt = parse_safetensors_dtype(dtype);
  DLT_CHECK(dt, "{}: unknown dtype \"{}\" (dlt reads F32, F64, F16, BF16, I64, I32, U8, BOOL)", what,
            dtype);
  e.dtype = *dt;

  uint64_t numel = 1;
  bool overflow = false;
  for (const Json& d : j.at("shape").items(what + " shape")) {
    const int64_t n = d.as_int(what + " shape");
    DLT_CHECK(n >= 0, "{}: negative dimension {} in its shape", what, n);
    e.shape.push_back(n);
    overflow |= __builtin_mul_overflow(numel, uint64_t(n), &numel);
  }

  const auto& offsets = j.at("data_offsets").items(what + " data_offsets");
  DLT_CHECK(offsets.size() == 2, "{}: data_offsets must be [begin, end], got {} numbers", what,
            offsets.size());
  e.begin = offsets[0].as_uint(what + " data_offsets");
  e.end = offsets[1].as_uint(what + " data_offsets");
  DLT_CHECK(e.begin <= e.end, "{}: data_offsets [{}, {}] end before they begin", what, e.begin, e.end);
  DLT_CHECK(e.end <= data_bytes,
            "{}: data_offsets [{}, {}] reach past the end of the data ({} bytes; is the file truncated?)",
            what, e.begin, e.end, data_bytes);
  uint64_t bytes = 0;
  overflow |= __builtin_mul_overflow(numel, uint64_t(dtype_size(e.dtype)), &bytes);
  DLT_CHECK(!overflow && bytes == e.end - e.begin,
            "{}: shape {} of {} needs {} bytes, but data_offsets [{}, {}] hold {}", what,
            shape_str(e.shape), dtype, overflow ? std::string("too many") : std::to_string(bytes),
            e.begin, e.end, e.end - e.begin);
  return e;
}

// The tensors must tile the data exactly, as the reference reader requires:
// an overlap or a gap means the header and the data disagree.
void check_layout(std::vector<Entry>& entries, uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t at = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    DLT_CHECK(e.begin >= at, "tensors \"{}\" [{}, {}] and \"{}\" [{}, {}] overlap", prev->name,
              prev->begin, prev->end, e.name, e.begin, e.end);
    DLT_CHECK(e.begin == at, "data bytes [{}, {}) belong to no tensor (before \"{}\")", at, e.begin,
              e.name);
    at = e.end;
    prev = &e;
  }
  DLT_CHECK(at == data_bytes, "the last {} data bytes belong to no tensor", data_bytes - at);
}

void check_bools(const Entry& e, const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i)
    DLT_CHECK(p[i] <= 1, "tensor \"{}\": BOOL element {} is {}, not 0 or 1", e.name, i, p[i]);
}

SafetensorsFile load_checked(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "cannot open: {}", std::strerror(errno));
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  DLT_CHECK(!ec, "cannot read its size: {}", ec.message());
  DLT_CHECK(size >= 8, "the file is {} bytes, too short for the 8-byte header length", size);

  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  DLT_CHECK(in, "cannot read the header length");
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | len_bytes[i];
  DLT_CHECK(header_bytes <= size - 8,
            "bad header length {}: the file has only {} bytes after the length (truncated, or not "
            "a safetensors file)",
            header_bytes, size - 8);
  DLT_CHECK(header_bytes <= kMaxHeaderBytes, "bad header length {}: more than the {} MiB limit",
            header_bytes, kMaxHeaderBytes >> 20);

  std::string header(header_bytes, '\0');
  in.read(header.data(), std::streamsize(header_bytes));
  DLT_CHECK(in, "cannot read the {}-byte header", header_bytes);
  Json root;
  try {
    root = parse_json(header);
  } catch (const Error& e) {
    throw Error(fmt::format("header: {}", e.what()));
  }
  DLT_CHECK(root.is_object(), "header: expected a JSON object of tensors");

  const uint64_t data_bytes = size - 8 - header_bytes;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : root.members("header")) {
    if (name == kMetadataKey) {
      for (const auto& [k, v] : value.members("__metadata__"))
        out.metadata.emplace(k, v.as_string(fmt::format("__metadata__ \"{}\"", k)));
      continue;
    }
    entries.push_back(parse_entry(name, value, data_bytes));
  }
  check_layout(entries, data_bytes);

  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    in.seekg(std::streamoff(8 + header_bytes + e.begin));
    in.read(static_cast<char*>(t.raw_data()), std::streamsize(e.end - e.begin));
    DLT_CHECK(in, "tensor \"{}\": cannot read its {} bytes", e.name, e.end - e.begin);
    if (e.dtype == DType::boolean) check_bools(e, t);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace

std::string_view safetensors_dtype(DType t) {
  for (const auto& d : kDTypeNames)
    if (d.dtype == t) return d.name;
  throw InternalError(fmt::format("no safetensors name for {}", t));
}

FileChecksum save_safetensors(const fs::path& path, const TensorMap& tensors, const StringMap& metadata) {
  // Host copies first: every check happens before the file is touched.
  std::vector<std::pair<std::string, Tensor>> host;
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata) meta.set(k, Json::string(v));
    header.set(std::string(kMetadataKey), std::move(meta));
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {  // std::map: sorted by name
    DLT_CHECK(!name.empty() && name != kMetadataKey, "{}: a tensor may not be named \"{}\"",
              path.string(), name);
    DLT_CHECK(t.defined(), "{}: tensor \"{}\" is undefined", path.string(), name);
    Tensor c = t.detach().to(Device::cpu()).contiguous();
    const uint64_t bytes = uint64_t(c.numel()) * c.element_size();
    Json shape = Json::array();
    for (const int64_t d : c.shape()) shape.push(Json::integer(d));
    Json entry = Json::object();
    entry.set("dtype", Json::string(std::string(safetensors_dtype(c.dtype()))));
    entry.set("shape", std::move(shape));
    entry.set("data_offsets", Json::array({Json::unsigned_integer(offset),
                                           Json::unsigned_integer(offset + bytes)}));
    header.set(name, std::move(entry));
    offset += bytes;
    host.emplace_back(name, std::move(c));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  FileWriter w(path);
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
  w.write(len_bytes, 8);
  w.write(text);
  for (const auto& [name, c] : host) w.write(c.raw_data(), size_t(c.numel()) * c.element_size());
  w.close();
  return w.checksum();
}

SafetensorsFile load_safetensors(const fs::path& path) {
  try {
    return load_checked(path);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace dlt::train
