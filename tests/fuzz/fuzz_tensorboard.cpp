// TensorBoard event files as dlt reads them back when a run resumes: TFRecord
// framing with CRCs, torn records at the end.
#include "dlt/train/tensorboard.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".tfevents");
  dlt::fuzz::expect_error_or_success([&] { (void)dlt::train::read_events(path); });
  return 0;
}
