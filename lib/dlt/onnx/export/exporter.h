// A dlt model as an ONNX model (opset 17 by default, IR 8), in eval mode:
// BatchNorm uses its running statistics, Dropout is left out.
//
//   input     "input" (batch, *sample) float32, or, for integer samples,
//             "input_ids" int64: (batch, seq) for token ids [T] (language
//             models), else (batch, *sample). A model that folds the
//             sequence into its features (Flatten or Reshape over T, as a
//             classifier of fixed windows does) works at its own T only, and
//             its ids are (batch, T).
//   output    options.output_name, (batch, *output) or (batch, seq, V)
//   weights   initializers named as in the model's state dict (safetensors),
//             each tensor once (a tied weight under its first name); the
//             constants the graph needs besides ("causal_mask", "rotary.cos",
//             "const.ints.0_0_-1", ...) have names of their own
//
// Every layer is exported by the function registered for its type
// (context.h); a layer without one, or options it cannot map, stop the
// export with an error naming the layer's path and type.
#pragma once

#include <onnx/onnx_pb.h>

#include "dlt/nn/module.h"
#include "dlt/onnx/export/options.h"

namespace dlt::onnx_export {

onnx::ModelProto export_model(nn::Module& model, const Shape& sample_shape, DType input_dtype,
                              const ExportOptions& options = {});

}  // namespace dlt::onnx_export
