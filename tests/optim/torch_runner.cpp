#include "tests/optim/torch_runner.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

namespace dlt::testing {

namespace fs = std::filesystem;

bool torch_available() {
  static const bool available =
      std::system(fmt::format("{} -c 'import torch, numpy' >/dev/null 2>&1", kPython).c_str()) == 0;
  return available;
}

ScratchDir::ScratchDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() / fmt::format("dlt_{}_{}_{}", tag, ::getpid(), counter++);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_doubles(const fs::path& path, const std::vector<double>& values) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(values.data()),
          std::streamsize(values.size() * sizeof(double)));
}

std::vector<double> read_doubles(const fs::path& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return {};
  const auto bytes = size_t(f.tellg());
  std::vector<double> v(bytes / sizeof(double));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(bytes));
  return v;
}

int run_torch_script(const std::string& script, const std::string& args) {
  const std::string path = std::string(DLT_SOURCE_DIR) + "/tests/optim/" + script;
  return std::system(fmt::format("{} {} {}", kPython, path, args).c_str());
}

}  // namespace dlt::testing
