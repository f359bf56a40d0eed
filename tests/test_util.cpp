#include "tests/test_util.h"

#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

namespace dlt::testing {

namespace fs = std::filesystem;

const char* torch_python() {
  static const char* const python = [] {
    const char* env = std::getenv("DLT_TORCH_PY");
    return env && *env ? env : kPython;
  }();
  return python;
}

bool torch_available() {
  static const bool available =
      std::system(fmt::format("{} -c 'import torch, numpy' >/dev/null 2>&1", torch_python()).c_str()) == 0;
  return available;
}

TempDir::TempDir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("dlt-" + tag + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  dir_ = pattern;
  root_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(root_, ec);
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

std::string compare_close(const std::vector<double>& actual, const std::vector<double>& expected,
                          double rtol, double atol) {
  if (actual.size() != expected.size())
    return fmt::format("size {} != expected size {}", actual.size(), expected.size());
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;  // also equal infinities
    const double err = std::abs(a - e);
    if (!(err <= atol + rtol * std::abs(e))) {
      if (bad++ == 0) first = i;
      worst = std::max(worst, err);
    }
  }
  if (bad == 0) return {};
  return fmt::format("{} of {} elements differ; first at {}: {} vs expected {} (max abs err {:.3g}, "
                     "rtol {}, atol {})",
                     bad, actual.size(), first, actual[first], expected[first], worst, rtol, atol);
}

}  // namespace dlt::testing
