#include "dlt/train/checksum.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "dlt/core/error.h"

namespace dlt::train {

std::string FileChecksum::str() const { return fmt::format("{} bytes, CRC-32 {:08x}", bytes, crc32); }

FileChecksum checksum_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "cannot read {}: {}", path.string(), std::strerror(errno));
  std::vector<char> chunk(1 << 20);
  FileChecksum c;
  uLong crc = crc32_z(0, Z_NULL, 0);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    const std::streamsize n = in.gcount();
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(chunk.data()), size_t(n));
    c.bytes += n;
  }
  DLT_CHECK(in.eof(), "cannot read {}: {}", path.string(), std::strerror(errno));
  c.crc32 = uint32_t(crc);
  return c;
}

}  // namespace dlt::train
