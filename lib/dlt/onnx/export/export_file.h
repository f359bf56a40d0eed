// `dlt export`'s work: a model to a checked ONNX file. No ONNX headers here,
// so the CLI can include it (exporter.h has the ModelProto-level function).
#pragma once

#include <string>
#include <vector>

#include "dlt/nn/module.h"
#include "dlt/onnx/export/options.h"

namespace dlt::onnx_export {

struct ExportReport {
  int64_t nodes = 0;
  int64_t initializers = 0;
  int64_t initializer_bytes = 0;  // of the initializers' values
  int64_t file_bytes = 0;
  std::string input, output;  // the graph's input and output names
};

// Exports the model (exporter.h), runs Debian's ONNX checker on it and writes
// it to `path` through a temporary file renamed into place. A rejected model
// is an error naming `path`; nothing is written then, nor when the write fails.
ExportReport export_onnx_file(nn::Module& model, const Shape& sample_shape, DType input_dtype,
                              const ExportOptions& options, const std::string& path);

}  // namespace dlt::onnx_export
