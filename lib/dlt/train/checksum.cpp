#include "dlt/train/checksum.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "dlt/core/error.h"

namespace dlt::train {

void FileChecksum::add(const void* data, size_t n) {
  crc32 = uint32_t(crc32_z(crc32, static_cast<const Bytef*>(data), n));
  bytes += int64_t(n);
}

std::string FileChecksum::str() const { return fmt::format("{} bytes, CRC-32 {:08x}", bytes, crc32); }

FileChecksum checksum_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "cannot read {}: {}", path.string(), std::strerror(errno));
  std::vector<char> chunk(1 << 20);
  FileChecksum c;
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    c.add(chunk.data(), size_t(in.gcount()));
  }
  DLT_CHECK(in.eof(), "cannot read {}: {}", path.string(), std::strerror(errno));
  return c;
}

}  // namespace dlt::train
