// Files that must either be written completely or fail loudly: every
// write, flush and close is checked, and a failure is a dlt::Error naming
// the file and the system's reason (disk full, file too large, ...).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "dlt/train/checksum.h"

namespace dlt::train {

class FileWriter {
 public:
  explicit FileWriter(std::filesystem::path path);  // creates or truncates
  ~FileWriter();                                    // closes without syncing if close() was not called
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Size and CRC-32 of everything written so far.
  const FileChecksum& checksum() const { return written_; }
  // Flushes to disk (fsync) and closes, so a rename after it publishes
  // complete data even across a power loss.
  void close();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  FileChecksum written_;
};

// The whole file; a missing or unreadable file is a dlt::Error naming it.
std::string read_file(const std::filesystem::path& path);
// Writes `text` to `path` through a temporary file and a rename, so readers
// see the old or the new content, never a part.
void write_file_atomic(const std::filesystem::path& path, std::string_view text);
// Makes a rename inside `dir` durable.
void sync_dir(const std::filesystem::path& dir);

}  // namespace dlt::train
