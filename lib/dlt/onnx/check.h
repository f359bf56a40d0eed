// Debian's ONNX checker (libonnx 1.12: IR <= 8, opsets <= 17) as dlt errors.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace dlt::onnx_io {

// onnx::checker::check_model on the model; with `full`, then strict shape
// inference with type checks, as Python's check_model(full_check=True).
// A rejection is a dlt::Error "the ONNX checker rejects <what>: <reason>".
void check_model(const onnx::ModelProto& model, const std::string& what, bool full = true);

}  // namespace dlt::onnx_io
