// The safetensors reader: header length, JSON header, dtypes, shapes and
// offsets of untrusted files.
#include "dlt/train/safetensors.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".safetensors");
  dlt::fuzz::expect_error_or_success([&] { (void)dlt::train::load_safetensors(path); });
  return 0;
}
