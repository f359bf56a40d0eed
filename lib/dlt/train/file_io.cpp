#include "dlt/train/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dlt/core/error.h"

namespace dlt::train {

namespace fs = std::filesystem;

FileWriter::FileWriter(fs::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  DLT_CHECK(fd_ >= 0, "cannot create {}: {}", path_.string(), std::strerror(errno));
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::write(const void* data, size_t bytes) {
  DLT_ASSERT(fd_ >= 0, "write after close of {}", path_.string());
  written_.add(data, bytes);
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;  // a signal (SIGINT to the trainer) arrived
    DLT_CHECK(n > 0, "cannot write {}: {}", path_.string(), n < 0 ? std::strerror(errno) : "no progress");
    p += n;
    bytes -= size_t(n);
  }
}

void FileWriter::close() {
  DLT_ASSERT(fd_ >= 0, "double close of {}", path_.string());
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
  }
  DLT_CHECK(::close(fd) == 0, "cannot write {}: {}", path_.string(), std::strerror(errno));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "cannot open {}: {}", path.string(), std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  DLT_CHECK(!in.bad(), "cannot read {}: {}", path.string(), std::strerror(errno));
  return std::move(s).str();
}

void write_file_atomic(const fs::path& path, std::string_view text) {
  const fs::path tmp = path.string() + fmt::format(".tmp-{}", ::getpid());
  try {
    FileWriter w(tmp);
    w.write(text);
    w.close();
    std::error_code ec;
    fs::rename(tmp, path, ec);
    DLT_CHECK(!ec, "cannot replace {}: {}", path.string(), ec.message());
  } catch (...) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw;
  }
  sync_dir(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // durability only: the rename itself already happened
  ::fsync(fd);
  ::close(fd);
}

}  // namespace dlt::train
