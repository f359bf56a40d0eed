// An imported ONNX model: its graph run forward with dlt's ops, on the CPU or
// a GPU. Nodes run in file order (ONNX requires a topological order); each
// value lives until the run ends. Initializers are converted once per device.
//
//   onnx_import::Model model = onnx_import::Model::load("resnet.onnx");
//   auto y = model.run({{"input", x}}, Device::cpu());  // {"logits", (N, 10)}
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dlt/onnx/proto.h"

namespace dlt::onnx_import {

// A graph input or output as the model declares it.
struct ValueInfo {
  std::string name;
  int32_t elem_type = 0;           // ONNX TensorProto.DataType, 0 when not a tensor
  std::vector<std::string> dims;   // "3", "batch" (symbolic) or "?" (unknown)
  bool has_shape = false;
  std::string type_str() const;    // "FLOAT[batch, 1, 28, 28]"
};

// An op (or a dtype, or a feature) of the model that the importer does not run.
struct UnsupportedNode {
  std::string op_type;            // "Resize", or "ai.onnx.ml:TreeEnsemble"
  std::vector<std::string> nodes;  // node names (or their first output)
};

class Model {
 public:
  Model(onnx::ModelProto proto, std::string source);
  static Model load(const std::string& path);

  const std::string& source() const { return source_; }
  const onnx::ModelProto& proto() const { return proto_; }
  int64_t opset() const { return opset_; }  // of the default domain
  const std::vector<ValueInfo>& inputs() const { return inputs_; }  // initializers excluded
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  // Each op type with its node count, in order of first appearance.
  std::vector<std::pair<std::string, int>> op_counts() const;
  // Ops with no importer function, ops of other domains, subgraphs.
  std::vector<UnsupportedNode> unsupported() const;

  // Runs the graph on `device`: every declared input must be fed, with its
  // dtype and the fixed dims of its shape. Returns the graph outputs in order.
  // An op it cannot run is an UnsupportedError naming the node; a failing
  // node is a dlt::Error naming it.
  std::vector<std::pair<std::string, Tensor>> run(const std::map<std::string, Tensor>& feeds,
                                                  Device device) const;

 private:
  void check_feed(const ValueInfo& info, const Tensor& t) const;
  const std::map<std::string, Tensor>& initializers(Device device) const;

  onnx::ModelProto proto_;
  std::string source_;
  int64_t opset_ = 0;
  std::vector<ValueInfo> inputs_, outputs_;
  mutable std::map<std::string, std::map<std::string, Tensor>> initializers_;  // device -> name -> value
};

}  // namespace dlt::onnx_import
