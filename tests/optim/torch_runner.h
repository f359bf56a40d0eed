// Running a torch helper script (torch_python(): Debian's torch 1.13, or the
// torch of $DLT_TORCH_PY) on files a test wrote: float64 binaries in, float64
// binaries out.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/require_torch.h"
#include "tests/test_util.h"

namespace dlt::testing {

// Runs tests/optim/<script> with `args`; returns its exit status.
int run_torch_script(const std::string& script, const std::string& args);

}  // namespace dlt::testing
