// What the ONNX export tests share: exporting a model with its inputs and
// dlt's outputs into a folder, the structural checks every export must pass,
// and running tests/onnx/check_export_ort.py (onnx's full check and ONNX
// Runtime against dlt) over a manifest of such cases.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dlt/onnx/export/exporter.h"

namespace dlt::onnx_export::testing {

// Every initializer named after a state-dict tensor holds its exact bytes;
// every other one is a named constant (const.*, causal_mask, rotary.cos /
// sin, <layer>.scales); no tensor is stored twice; every parameter is in the
// graph; num_batches_tracked is not; the input has dim_param "batch" (and
// "seq" when `dynamic_seq`) and so has the output.
void expect_export_structure(const onnx::ModelProto& m, const nn::Module& model, bool dynamic_seq);

// Runs `python3 tests/onnx/check_export_ort.py manifest` (cases: see the
// script). Skips the test, saying why, when onnx or onnxruntime is missing.
void run_ort_check(const std::string& manifest_path, const nlohmann::json& cases);

}  // namespace dlt::onnx_export::testing
