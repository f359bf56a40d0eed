// The ONNX reader of untrusted files: the model's protobuf, its graph's value
// infos and op table (what `dlt onnx info` prints), and every initializer as
// a tensor (raw data, the typed fields, external data beside the file).
#include "dlt/onnx/import/model.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dlt::fuzz::as_file(data, size, ".onnx");
  dlt::fuzz::expect_error_or_success([&] {
    const auto model = dlt::onnx_import::Model::load(path.string());
    for (const auto& v : model.inputs()) (void)v.type_str();
    for (const auto& v : model.outputs()) (void)v.type_str();
    (void)model.op_counts();
    (void)model.unsupported();
    for (const auto& t : model.proto().graph().initializer())
      (void)dlt::onnx_io::tensor_from_proto(t, "initializer", path.parent_path().string());
  });
  return 0;
}
