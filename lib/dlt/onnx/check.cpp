#include "dlt/onnx/check.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <exception>

#include "dlt/core/error.h"

namespace dlt::onnx_io {

void check_model(const onnx::ModelProto& model, const std::string& what, bool full) {
  try {
    onnx::checker::check_model(model);
    if (full) {
      onnx::ModelProto inferred = model;  // inference adds value_info: on a copy
      const onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1};
      onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), strict);
    }
  } catch (const std::exception& e) {  // ValidationError, InferenceError
    throw Error(fmt::format("the ONNX checker rejects {}: {}", what, e.what()));
  }
}

}  // namespace dlt::onnx_io
