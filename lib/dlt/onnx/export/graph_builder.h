// A small builder of one ONNX graph: nodes with attributes, initializers from
// dlt tensors (each tensor stored once, however often the graph uses it),
// named constants, and unique value names scoped by the module path
// ("blocks.0.attn/MatMul", "blocks.0.attn/MatMul_1").
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::onnx_export {

// Dims of graph inputs and outputs, and of the shapes the exporter tracks:
// a size, or one of these symbolic dims.
inline constexpr int64_t kBatchDim = -1;    // dim_param "batch"
inline constexpr int64_t kSeqDim = -2;      // dim_param "seq" (token ids' length)
inline constexpr int64_t kUnknownDim = -3;  // dynamic without a name (a product of the two)
inline bool is_symbolic(int64_t dim) { return dim < 0; }

using Attrs = std::vector<onnx::AttributeProto>;
onnx::AttributeProto attr(const std::string& name, int64_t value);
onnx::AttributeProto attr(const std::string& name, double value);  // FLOAT
onnx::AttributeProto attr(const std::string& name, const std::string& value);
onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& values);

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  // A node of `op_type` with these inputs ("" skips an optional one); returns
  // the names of its `outputs` outputs, unique and prefixed with the scope.
  std::vector<std::string> add(const std::string& op_type, const std::vector<std::string>& inputs,
                               int outputs, Attrs attrs = {});
  std::string add(const std::string& op_type, const std::vector<std::string>& inputs,
                  Attrs attrs = {}) {
    return add(op_type, inputs, 1, std::move(attrs)).front();
  }

  // The initializer `name` with t's values. The same tensor (same memory,
  // shape and strides) given again is not stored again: its first name is
  // returned, so a tied weight is one initializer.
  std::string initializer(const std::string& name, const Tensor& t);
  // A constant the graph needs beyond the parameters (rotary tables, masks),
  // stored under `name` once: asking again for the same name returns it.
  std::string constant(const std::string& name, const Tensor& value);
  // int64 constants for shapes, axes and indices, shared by value:
  // "const.ints.0_0_-1" (1-D) and "const.int.2" (0-D).
  std::string ints(const std::vector<int64_t>& values);
  std::string int_scalar(int64_t value);
  // A 0-D floating constant of `dtype` ("const.float.0.5").
  std::string scalar(double value, DType dtype);

  // Node and value names start with the innermost scope: the module path.
  void push_scope(const std::string& path) { scopes_.push_back(path); }
  void pop_scope() { scopes_.pop_back(); }

  // Graph inputs and outputs: a tensor of `elem_type` with these dims
  // (sizes or the symbolic dims above).
  void add_input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims);
  void add_output(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims);
  // Renames the value `from` (a node's output) to `to` everywhere, so the
  // graph's output gets its public name; a graph input or initializer gets an
  // Identity node instead.
  void rename_value(const std::string& from, const std::string& to);

  onnx::GraphProto& graph() { return *graph_; }

 private:
  std::string unique(const std::string& base);
  bool is_node_output(const std::string& name) const;

  onnx::GraphProto* graph_;
  std::vector<std::string> scopes_;
  std::set<std::string> used_;       // every value name so far
  std::map<std::string, int> next_;  // base name -> the last suffix given
  // Identity of a stored tensor: its memory, dtype, shape and strides.
  std::map<std::tuple<const void*, int, Shape, Shape>, std::string> stored_;
  std::map<std::string, Shape> constants_;  // initializers made by constant/ints/scalar
};

}  // namespace dlt::onnx_export
