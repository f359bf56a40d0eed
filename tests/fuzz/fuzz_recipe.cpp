// The recipe loader (a recipe names its base experiment by path: the
// repository's configs are there when run from the source tree).
#include "dlt/train/recipe.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".yaml");
  dlt::fuzz::expect_error_or_success([&] { (void)dlt::train::load_recipe(path.string(), "/tmp/dlt-fuzz-runs"); });
  return 0;
}
