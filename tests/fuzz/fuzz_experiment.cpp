// The experiment loader: YAML text, with --set overrides taken from the
// input's leading "#set key=value" lines, through parsing and validation.
#include "dlt/config/experiment.h"
#include "tests/fuzz/fuzz_input.h"

#include <sstream>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line) && line.starts_with("#set ");) overrides.push_back(line.substr(5));
  dlt::fuzz::expect_error_or_success([&] { (void)dlt::config::load_experiment_string(text, "fuzz.yaml", overrides); });
  return 0;
}
