// The ONNX ops the importer runs: each registers one function by its op_type
// in its own family file (ops_math.cpp, ops_shape.cpp, ...):
//
//   DLT_ONNX_OP(Relu, [](NodeContext& n) { return outs(relu(n.input(0))); });
//
// A function reads its inputs, attributes and the model's opset from the
// NodeContext and returns the node's outputs in order. It runs dlt's ops, so
// it works on every device the inputs are on. What ONNX allows but the
// function does not implement is an UnsupportedError naming the node, so the
// caller can tell "not supported" from "wrong".
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dlt/core/error.h"
#include "dlt/core/tensor.h"

namespace dlt::onnx_import {

// What ONNX allows but dlt's importer does not run (an op, a dtype, an
// attribute value). Distinct from dlt::Error, which is a broken model.
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

#define DLT_ONNX_SUPPORTED(cond, ...)                                             \
  do {                                                                            \
    if (!(cond)) [[unlikely]]                                                     \
      throw ::dlt::onnx_import::UnsupportedError(::fmt::format(__VA_ARGS__));     \
  } while (0)

class NodeContext {
 public:
  NodeContext(const onnx::NodeProto& node, int64_t opset, std::vector<Tensor> inputs, Device device);

  const onnx::NodeProto& node() const { return node_; }
  int64_t opset() const { return opset_; }  // of the node's domain
  // "node 'conv1' (Conv)": for messages.
  std::string where() const;

  size_t num_inputs() const { return inputs_.size(); }
  // Input i; a dlt::Error when absent (a missing or empty name).
  const Tensor& input(size_t i) const;
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].defined(); }
  // An input read on the host as integers (shapes, axes, pads) or a number.
  std::vector<int64_t> input_ints(size_t i) const;
  std::vector<double> input_doubles(size_t i) const;  // scales, bounds
  double input_scalar(size_t i) const;
  size_t num_outputs() const { return static_cast<size_t>(node_.output_size()); }
  bool wants_output(size_t i) const { return i < num_outputs() && !node_.output(i).empty(); }

  bool has_attr(const std::string& name) const { return attrs_.count(name) != 0; }
  int64_t attr_int(const std::string& name, std::optional<int64_t> fallback = {}) const;
  double attr_float(const std::string& name, std::optional<double> fallback = {}) const;
  std::string attr_string(const std::string& name, std::optional<std::string> fallback = {}) const;
  std::vector<int64_t> attr_ints(const std::string& name,
                                 std::optional<std::vector<int64_t>> fallback = {}) const;
  std::vector<float> attr_floats(const std::string& name) const;
  Tensor attr_tensor(const std::string& name) const;  // on the inputs' device

  // Where the graph runs: new tensors (constants, ranges) go there.
  Device device() const { return device_; }

 private:
  const onnx::AttributeProto& attr(const std::string& name, onnx::AttributeProto::AttributeType type) const;

  const onnx::NodeProto& node_;
  int64_t opset_;
  std::vector<Tensor> inputs_;
  Device device_;
  std::map<std::string, const onnx::AttributeProto*> attrs_;
};

using OnnxOp = std::vector<Tensor> (*)(NodeContext& node);

bool register_onnx_op(const char* op_type, OnnxOp op);
// The function of an op of the default domain, or null.
OnnxOp find_onnx_op(const std::string& op_type);
std::vector<std::string> registered_onnx_ops();  // sorted

#define DLT_ONNX_OP(op_type, ...)                                                  \
  [[maybe_unused]] static const bool dlt_onnx_registered_##op_type =               \
      ::dlt::onnx_import::register_onnx_op(#op_type, __VA_ARGS__)

// A one-output result.
inline std::vector<Tensor> outs(Tensor t) { return {std::move(t)}; }

// Axes as ONNX gives them (negative counts from the end), wrapped to [0, rank).
int64_t wrap_axis(int64_t axis, int64_t rank, const NodeContext& node);

}  // namespace dlt::onnx_import
