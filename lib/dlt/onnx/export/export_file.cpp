#include "dlt/onnx/export/export_file.h"

#include <filesystem>

#include "dlt/onnx/check.h"
#include "dlt/onnx/export/exporter.h"
#include "dlt/onnx/proto.h"

namespace dlt::onnx_export {

ExportReport export_onnx_file(nn::Module& model, const Shape& sample_shape, DType input_dtype,
                              const ExportOptions& options, const std::string& path) {
  const onnx::ModelProto m = export_model(model, sample_shape, input_dtype, options);
  onnx_io::check_model(m, path);  // before anything is written
  onnx_io::save_model(m, path);
  ExportReport r;
  r.nodes = m.graph().node_size();
  r.initializers = m.graph().initializer_size();
  for (const onnx::TensorProto& t : m.graph().initializer())
    r.initializer_bytes += int64_t(t.raw_data().size());
  r.file_bytes = int64_t(std::filesystem::file_size(path));
  r.input = m.graph().input(0).name();
  r.output = m.graph().output(0).name();
  return r;
}

}  // namespace dlt::onnx_export
