// Running a torch 1.13 helper script (/usr/bin/python3) on files a test
// wrote: float64 binaries in, float64 binaries out.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dlt::testing {

inline constexpr const char* kPython = "/usr/bin/python3";

bool torch_available();

// A fresh folder under the system temp dir, removed when this goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_doubles(const std::filesystem::path& path, const std::vector<double>& values);
std::vector<double> read_doubles(const std::filesystem::path& path);

// Runs tests/optim/<script> with `args`; returns its exit status.
int run_torch_script(const std::string& script, const std::string& args);

}  // namespace dlt::testing

// In a test that needs torch: skips loudly without it.
#define DLT_REQUIRE_TORCH()                                                                   \
  do {                                                                                        \
    if (!::dlt::testing::torch_available()) {                                                 \
      std::fprintf(stderr, "SKIPPED: %s cannot import torch (apt-get install python3-torch)\n", \
                   ::dlt::testing::kPython);                                                  \
      GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/python3 cannot import torch";                 \
    }                                                                                         \
  } while (0)
