// A checkpoint's state.json: JSON, then every field of TrainState.
#include "dlt/train/checkpoint.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".json");
  dlt::fuzz::expect_error_or_success([&] { (void)dlt::train::load_train_state(path); });
  return 0;
}
