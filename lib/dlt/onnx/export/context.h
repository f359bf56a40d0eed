// What a layer's export function gets: the graph builder, the model's
// parameter names, the opset, and the path of the layer being exported; and
// the registry of export functions by layer type (the nn registry's names),
// each in the file of its layer family:
//
//   Value export_linear(ExportContext& ctx, nn::Module& m, const Value& x);
//   DLT_REGISTER_LAYER_EXPORT(Linear, export_linear);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dlt/core/error.h"
#include "dlt/nn/module.h"
#include "dlt/onnx/export/graph_builder.h"

namespace dlt::onnx_export {

// A value of the graph and its shape, batch first; dims are sizes or the
// symbolic dims of graph_builder.h (kBatchDim, kSeqDim, kUnknownDim).
struct Value {
  std::string name;
  Shape shape;
  int64_t rank() const { return int64_t(shape.size()); }
};

class ExportContext {
 public:
  // `root`: the model, whose named parameters and buffers name the initializers.
  ExportContext(GraphBuilder& graph, const nn::Module& root, int64_t opset, DType dtype);

  GraphBuilder& g;
  const int64_t opset;
  const DType dtype;  // of the model's parameters, and so of its float values

  // The initializer of a parameter or buffer of the model, named as in its
  // state dict (a tied weight under its first name, once).
  std::string param(const Tensor& t);
  // A floating scalar constant of the model's dtype.
  std::string scalar(double value) { return g.scalar(value, dtype); }

  // Exports `m`, named `name` inside the layer being exported (the model
  // itself: ""), through the export function registered for its type().
  Value run(nn::Module& m, const std::string& name, const Value& x);
  // The same for the child `name` of `parent`.
  Value run_child(nn::Module& parent, const std::string& name, const Value& x);

  // A part of the layer being exported that has no export function of its
  // own (a block's feed-forward, a ResNet stage), exported by `build` under
  // the child name `name`: its nodes and errors are named after it.
  template <class F>
  Value part(const std::string& name, const std::string& type, F&& build) {
    enter(name, type);
    Value y = build();
    leave();
    return y;
  }

  // The longest sequence a causal attention must mask when the sequence
  // length is dynamic: the model's block_size, else the length it was built
  // for. 0: none known.
  int64_t max_positions = 0;

  // A layer that folds a dynamic sequence length into another dim (Flatten or
  // Reshape over T) calls this: the model then depends on the length it was
  // built for, and export_model starts again with that length fixed.
  [[noreturn]] void needs_fixed_sequence() const { throw FixedSequenceNeeded{}; }
  struct FixedSequenceNeeded {};

  // Stops the export: "cannot export layer blocks.0.attn (MultiHeadAttention)
  // to ONNX: <reason>".
  [[noreturn]] void fail(const std::string& reason) const;
  // The dotted path of the layer being exported ("" for the model).
  std::string path() const { return frames_.empty() ? std::string() : frames_.back().path; }

 private:
  void enter(const std::string& name, const std::string& type);
  void leave();

  struct Frame {
    std::string path, type;
  };
  std::map<const void*, std::string> names_;  // tensor memory -> state-dict name
  std::vector<Frame> frames_;
};

// The child `name` of `m` as a T (a layer the caller knows is there).
template <class T>
T& child(const nn::Module& m, const std::string& name) {
  for (const auto& [n, c] : m.children())
    if (n == name)
      if (auto* t = dynamic_cast<T*>(c.get())) return *t;
  DLT_ASSERT(false, "{} has no child '{}' of the expected type", m.type(), name);
}

using LayerExport = Value (*)(ExportContext& ctx, nn::Module& m, const Value& x);
bool register_layer_export(const char* type, LayerExport fn);
LayerExport find_layer_export(const std::string& type);  // null when there is none
std::vector<std::string> exportable_layers();            // sorted

}  // namespace dlt::onnx_export

#define DLT_REGISTER_LAYER_EXPORT(type, fn)              \
  static const bool dlt_layer_export_registered_##type = \
      ::dlt::onnx_export::register_layer_export(#type, fn)
