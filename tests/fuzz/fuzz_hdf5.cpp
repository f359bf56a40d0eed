// HDF5 data sets through dlt's data layer: opening the file, the datasets a
// config names, their shapes and dtypes, and reading rows.
#include "dlt/data/array_dataset.h"
#include "tests/fuzz/fuzz_input.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".h5");
  dlt::fuzz::expect_error_or_success([&] {
    const dlt::data::ArrayDataset ds(path.string(), {"train/x", "train/y"}, int64_t(1) << 20);
    if (ds.size() == 0) return;
    std::vector<std::vector<std::byte>> buffers;
    std::vector<std::byte*> out;
    const int64_t rows[] = {0, ds.size() - 1};
    for (const auto& f : ds.fields()) {
      if (f.sample_bytes() > (int64_t(64) << 20)) return;  // legal, but not worth a fuzzer's memory
      buffers.emplace_back(size_t(f.sample_bytes() * 2));
    }
    for (auto& b : buffers) out.push_back(b.data());
    ds.read(rows, 0, out);
  });
  return 0;
}
