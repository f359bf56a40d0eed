// ONNX's backend node tests (onnx/backend/test/data/node/<test>/ in the onnx
// 1.22 wheel: model.onnx and test_data_set_N/{input,output}_i.pb) run through
// the importer and compared as ONNX's runner compares: floats within
// rtol 1e-3 + atol 1e-7 (NaN equal to NaN), other types exactly.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dlt/core/device.h"

namespace dlt::onnx_import {

struct NodeTestResult {
  enum class Status { passed, failed, skipped };
  std::string name;              // the folder's name: "test_conv_with_strides_padding"
  std::vector<std::string> ops;  // the model's op types
  Status status = Status::failed;
  std::string reason;            // why it failed or was skipped
};

// One test folder.
NodeTestResult run_node_test(const std::filesystem::path& dir, Device device);

// `path` itself when it holds a model.onnx, else its sub-folders that do, sorted.
std::vector<std::filesystem::path> find_node_tests(const std::filesystem::path& path);

const char* status_name(NodeTestResult::Status s);

}  // namespace dlt::onnx_import
