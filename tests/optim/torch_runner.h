// Running a torch helper script (torch_python(): Debian's torch 1.13, or the
// torch of $DLT_TORCH_PY) on files a test wrote: float64 binaries in, float64
// binaries out.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace dlt::testing {

// Runs tests/optim/<script> with `args`; returns its exit status.
int run_torch_script(const std::string& script, const std::string& args);

}  // namespace dlt::testing

// In a test that needs torch: skips loudly without it.
#define DLT_REQUIRE_TORCH()                                                                       \
  do {                                                                                            \
    if (!::dlt::testing::torch_available()) {                                                     \
      std::fprintf(stderr, "SKIPPED: %s cannot import torch (apt-get install python3-torch)\n",   \
                   ::dlt::testing::torch_python());                                               \
      GTEST_SKIP() << "SKIPPED LOUDLY: " << ::dlt::testing::torch_python() << " cannot import torch"; \
    }                                                                                             \
  } while (0)
