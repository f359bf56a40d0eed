// File checksums for checkpoints: size and CRC-32 (zlib's) of a whole file,
// summed as FileWriter writes it or read back in chunks. A checkpoint's state.json records them for its tensor
// files, and loading it verifies them, so a truncated or bit-flipped file is
// found before its bytes reach a model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dlt::train {

struct FileChecksum {
  int64_t bytes = 0;
  uint32_t crc32 = 0;  // of no bytes: 0
  void add(const void* data, size_t n);  // the checksum of what was summed, then `data`
  bool operator==(const FileChecksum&) const = default;
  std::string str() const;  // "1234 bytes, CRC-32 0a1b2c3d"
};

// Throws dlt::Error naming the file when it cannot be read.
FileChecksum checksum_file(const std::filesystem::path& path);

}  // namespace dlt::train
