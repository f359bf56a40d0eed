#include "dlt/data/import/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "dlt/core/error.h"

namespace dlt::data {

namespace {

using GzFile = std::unique_ptr<gzFile_s, decltype(&gzclose)>;

// Reads up to n bytes; fewer only at the end of the stream.
int64_t read_some(gzFile f, const std::string& path, void* out, int64_t n) {
  int64_t done = 0;
  while (done < n) {
    const unsigned step = unsigned(std::min<int64_t>(n - done, 1 << 30));
    const int got = gzread(f, static_cast<char*>(out) + done, step);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw Error(fmt::format("{}: cannot decompress: {}", path,
                              code == Z_ERRNO ? std::strerror(errno) : msg));
    }
    if (got == 0) break;
    done += got;
  }
  return done;
}

uint32_t big_endian(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  DLT_CHECK(std::filesystem::exists(path), "{}: no such file", path);
  GzFile f(gzopen(path.c_str(), "rb"), &gzclose);
  DLT_CHECK(f != nullptr, "{}: cannot open: {}", path, std::strerror(errno));

  uint8_t magic[4];
  DLT_CHECK(read_some(f.get(), path, magic, 4) == 4, "{}: too short for an IDX header", path);
  const int rank = magic[3];
  DLT_CHECK(magic[0] == 0 && magic[1] == 0 && rank >= 1 && rank <= 4,
            "{}: not an IDX file (magic 0x{:02x}{:02x}{:02x}{:02x})", path, magic[0], magic[1],
            magic[2], magic[3]);
  DLT_CHECK(magic[2] == 0x08, "{}: IDX element type 0x{:02x}; only 0x08 (uint8) is supported",
            path, magic[2]);

  IdxArray a;
  for (int d = 0; d < rank; ++d) {
    uint8_t dim[4];
    DLT_CHECK(read_some(f.get(), path, dim, 4) == 4, "{}: truncated IDX header", path);
    a.shape.push_back(int64_t(big_endian(dim)));
  }
  const int64_t n = numel_of(a.shape);
  a.data.resize(size_t(n));
  const int64_t got = read_some(f.get(), path, a.data.data(), n);
  DLT_CHECK(got == n, "{}: truncated: shape {} needs {} bytes of data, found {}", path,
            shape_str(a.shape), n, got);
  return a;
}

}  // namespace dlt::data
