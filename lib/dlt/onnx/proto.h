// ONNX files and tensors: reading and writing ModelProto files, and converting
// between ONNX TensorProto and dlt tensors. The messages are Debian's
// libonnx-dev ones (onnx/onnx_pb.h, protobuf 3.21); they parse files of any
// newer IR version too, since protobuf skips fields it does not know.
#pragma once

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstdint>
#include <optional>
#include <string>

#include "dlt/core/tensor.h"

namespace dlt::onnx_io {

// The IR version and default opset dlt writes: the newest Debian's onnx 1.12
// checker accepts.
inline constexpr int64_t kIrVersion = 8;
inline constexpr int64_t kDefaultOpset = 17;

// Reads an ONNX model; a missing, unreadable or non-ONNX file is a dlt::Error
// naming the path.
onnx::ModelProto load_model(const std::string& path);
// Writes through a temporary file renamed into place, so a failed write
// leaves no partial model behind.
void save_model(const onnx::ModelProto& model, const std::string& path);

// The dlt dtype of an ONNX TensorProto.DataType, or nullopt for the types dlt
// has no tensors of (int8, uint16, string, float8, ...).
std::optional<DType> dtype_from_onnx(int32_t elem_type);
int32_t onnx_dtype(DType dtype);
// "FLOAT", "INT64", "FLOAT8E4M3FN", ...: for messages.
std::string onnx_dtype_name(int32_t elem_type);

// A TensorProto as a dlt tensor on the CPU (raw_data, the typed fields, or
// external data: a file named relative to `model_dir`, as torch's exporter
// writes for its weights). `what` names the tensor in errors ("initializer
// fc.weight"); segments and types dlt has no tensors of are errors.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what,
                         const std::string& model_dir = "");
// Fills `proto` with t's dims, data type and little-endian raw_data.
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* proto);

}  // namespace dlt::onnx_io
