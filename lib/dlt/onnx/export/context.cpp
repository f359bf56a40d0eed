#include "dlt/onnx/export/context.h"

#include <algorithm>

#include "dlt/onnx/export/options.h"

namespace dlt::onnx_export {

namespace {

std::map<std::string, LayerExport>& registry() {
  static std::map<std::string, LayerExport> r;
  return r;
}

}  // namespace

bool register_layer_export(const char* type, LayerExport fn) {
  const bool fresh = registry().emplace(type, fn).second;
  DLT_ASSERT(fresh, "two ONNX export functions for layer type {}", type);
  return true;
}

LayerExport find_layer_export(const std::string& type) {
  const auto it = registry().find(type);
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> exportable_layers() {
  std::vector<std::string> types;
  for (const auto& [type, fn] : registry()) types.push_back(type);
  return types;
}

void check_opset(int64_t opset) {
  DLT_CHECK(opset >= kMinOpset && opset <= kMaxOpset,
            "opset {} is not one dlt exports: use {} to {} (default 17). The layer mappings need "
            "opset 13 or later (Softmax over one axis; Unsqueeze, Slice and Resize with their "
            "current inputs), and Debian's ONNX checker (onnx 1.12), which checks every export, "
            "knows no opset above 17",
            opset, kMinOpset, kMaxOpset);
}

ExportContext::ExportContext(GraphBuilder& graph, const nn::Module& root, int64_t opset_,
                             DType dtype_)
    : g(graph), opset(opset_), dtype(dtype_) {
  // Buffers first, then parameters: a name given twice keeps the parameter's.
  for (const auto& [name, t] : root.named_buffers()) names_.emplace(t.raw_data(), name);
  for (const auto& [name, t] : root.named_parameters()) names_[t.raw_data()] = name;
}

std::string ExportContext::param(const Tensor& t) {
  const auto it = names_.find(t.raw_data());
  DLT_ASSERT(it != names_.end(), "a tensor of {} that is no parameter or buffer of the model",
             path());
  return g.initializer(it->second, t);
}

void ExportContext::enter(const std::string& name, const std::string& type) {
  const std::string parent = path();
  const std::string p = parent.empty() ? name : name.empty() ? parent : parent + "." + name;
  frames_.push_back({p, type});
  g.push_scope(p);
}

void ExportContext::leave() {
  g.pop_scope();
  frames_.pop_back();
}

Value ExportContext::run(nn::Module& m, const std::string& name, const Value& x) {
  enter(name, m.type());
  const LayerExport fn = find_layer_export(m.type());
  if (!fn)
    fail(fmt::format("no ONNX mapping for layer type {} (layers that export: {})", m.type(),
                     fmt::join(exportable_layers(), ", ")));
  Value y = fn(*this, m, x);
  leave();
  return y;
}

Value ExportContext::run_child(nn::Module& parent, const std::string& name, const Value& x) {
  for (const auto& [n, c] : parent.children())
    if (n == name) return run(*c, name, x);
  DLT_ASSERT(false, "{} has no child '{}'", parent.type(), name);
}

void ExportContext::fail(const std::string& reason) const {
  const Frame& f = frames_.back();
  throw Error(fmt::format("cannot export {} ({}) to ONNX: {}",
                          f.path.empty() ? "the model" : "layer " + f.path, f.type, reason));
}

}  // namespace dlt::onnx_export
