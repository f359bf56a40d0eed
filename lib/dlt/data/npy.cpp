#include "dlt/data/npy.h"

#include <cstring>
#include <fstream>
#include <regex>

namespace dlt::data {

namespace {

struct Descr {
  const char* code;
  DType dtype;
};
constexpr Descr kDescrs[] = {{"<f4", DType::f32}, {"<f8", DType::f64}, {"<f2", DType::f16},
                             {"<i4", DType::i32}, {"<i8", DType::i64}, {"|u1", DType::u8},
                             {"|b1", DType::boolean}};

}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "{}: cannot open", path);
  char magic[8];
  DLT_CHECK(in.read(magic, 8) && std::memcmp(magic, "\x93NUMPY", 6) == 0, "{}: not a .npy file", path);
  const int major = magic[6];
  DLT_CHECK(major >= 1 && major <= 3, "{}: .npy format version {} (dlt reads 1 to 3)", path, major);
  uint32_t header_len = 0;
  unsigned char len[4] = {0, 0, 0, 0};
  DLT_CHECK(in.read(reinterpret_cast<char*>(len), major == 1 ? 2 : 4), "{}: truncated header", path);
  header_len = len[0] | (len[1] << 8) | (uint32_t(len[2]) << 16) | (uint32_t(len[3]) << 24);
  std::string header(header_len, '\0');
  DLT_CHECK(in.read(header.data(), header_len), "{}: truncated header", path);
  // {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  std::smatch m;
  DLT_CHECK(std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")), "{}: no descr in the header", path);
  const std::string descr = m[1];
  DLT_CHECK(std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")),
            "{}: no fortran_order in the header", path);
  DLT_CHECK(m[1] == "False", "{}: Fortran-ordered array (save it with np.ascontiguousarray)", path);
  DLT_CHECK(std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")), "{}: no shape in the header", path);
  Shape shape;
  const std::string dims = m[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  const Descr* found = nullptr;
  for (const Descr& d : kDescrs)
    if (descr == d.code) found = &d;
  DLT_CHECK(found, "{}: dtype '{}' (dlt reads <f4 <f8 <f2 <i4 <i8 |u1 |b1)", path, descr);
  Tensor t = empty(shape, found->dtype);
  const auto bytes = static_cast<std::streamsize>(t.numel() * static_cast<int64_t>(t.element_size()));
  DLT_CHECK(in.read(static_cast<char*>(t.raw_data()), bytes), "{}: truncated data ({} bytes expected)", path, bytes);
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  const Tensor host = t.detach().to(Device::cpu()).contiguous();
  const Descr* found = nullptr;
  for (const Descr& d : kDescrs)
    if (host.dtype() == d.dtype) found = &d;
  DLT_CHECK(found, "{}: .npy has no {} type", path, dtype_name(host.dtype()));
  std::string dims;
  for (int64_t d : host.shape()) dims += std::to_string(d) + ",";
  if (host.dim() > 1) dims.pop_back();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                    found->code, dims);
  // Version 1: magic, 2-byte length, the header padded to 64 bytes with a newline.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  DLT_CHECK(out, "{}: cannot write", path);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out << header;
  out.write(static_cast<const char*>(host.raw_data()),
            static_cast<std::streamsize>(host.numel() * static_cast<int64_t>(host.element_size())));
  DLT_CHECK(out.flush(), "{}: writing failed", path);
}

}  // namespace dlt::data
