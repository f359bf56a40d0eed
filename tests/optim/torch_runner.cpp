#include "tests/optim/torch_runner.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

namespace dlt::testing {

namespace fs = std::filesystem;

int run_torch_script(const std::string& script, const std::string& args) {
  const std::string path = std::string(DLT_SOURCE_DIR) + "/tests/optim/" + script;
  return std::system(fmt::format("{} {} {}", torch_python(), path, args).c_str());
}

}  // namespace dlt::testing
