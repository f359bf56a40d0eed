#include "dlt/onnx/import/model.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "dlt/onnx/import/op_registry.h"

namespace dlt::onnx_import {

namespace {

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

ValueInfo value_info(const onnx::ValueInfoProto& v) {
  ValueInfo info;
  info.name = v.name();
  if (!v.type().has_tensor_type()) return info;
  const auto& t = v.type().tensor_type();
  info.elem_type = t.elem_type();
  info.has_shape = t.has_shape();
  for (const auto& d : t.shape().dim())
    info.dims.push_back(d.has_dim_value() ? std::to_string(d.dim_value())
                        : d.has_dim_param() ? d.dim_param() : "?");
  return info;
}

std::string node_label(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  return node.output_size() ? "->" + node.output(0) : "(unnamed)";
}

}  // namespace

std::string ValueInfo::type_str() const {
  std::string s = elem_type ? onnx_io::onnx_dtype_name(elem_type) : "(not a tensor)";
  if (has_shape) s += fmt::format("[{}]", fmt::join(dims, ", "));
  return s;
}

Model::Model(onnx::ModelProto proto, std::string source)
    : proto_(std::move(proto)), source_(std::move(source)) {
  for (const auto& op : proto_.opset_import())
    if (is_default_domain(op.domain())) opset_ = op.version();
  // Models of IR version < 3 carry no opset_import: they mean opset 1.
  if (opset_ == 0) opset_ = 1;
  std::set<std::string> initialized;
  for (const auto& t : proto_.graph().initializer()) initialized.insert(t.name());
  for (const auto& v : proto_.graph().input())
    if (!initialized.count(v.name())) inputs_.push_back(value_info(v));
  for (const auto& v : proto_.graph().output()) outputs_.push_back(value_info(v));
}

Model Model::load(const std::string& path) { return Model(onnx_io::load_model(path), path); }

std::vector<std::pair<std::string, int>> Model::op_counts() const {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& node : proto_.graph().node()) {
    const std::string op = is_default_domain(node.domain()) ? node.op_type()
                                                            : node.domain() + ":" + node.op_type();
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == op; });
    if (it == counts.end()) counts.emplace_back(op, 1);
    else ++it->second;
  }
  return counts;
}

std::vector<UnsupportedNode> Model::unsupported() const {
  std::vector<UnsupportedNode> result;
  for (const auto& node : proto_.graph().node()) {
    const bool subgraph = std::any_of(node.attribute().begin(), node.attribute().end(), [](const auto& a) {
      return a.has_g() || a.graphs_size() > 0;
    });
    const bool known = is_default_domain(node.domain()) && find_onnx_op(node.op_type()) && !subgraph;
    if (known) continue;
    const std::string op = is_default_domain(node.domain()) ? node.op_type()
                                                            : node.domain() + ":" + node.op_type();
    auto it = std::find_if(result.begin(), result.end(), [&](const auto& u) { return u.op_type == op; });
    if (it == result.end()) it = result.insert(result.end(), UnsupportedNode{op, {}});
    it->nodes.push_back(node_label(node));
  }
  return result;
}

const std::map<std::string, Tensor>& Model::initializers(Device device) const {
  auto [it, fresh] = initializers_.try_emplace(device.str());
  if (fresh) {
    for (const auto& t : proto_.graph().initializer()) {
      const std::string what = fmt::format("{}: initializer '{}'", source_, t.name());
      if (!onnx_io::dtype_from_onnx(t.data_type()))
        throw UnsupportedError(fmt::format("{}: data type {} has no dlt tensor type", what,
                                           onnx_io::onnx_dtype_name(t.data_type())));
      const std::string dir = std::filesystem::path(source_).parent_path().string();
      it->second[t.name()] = onnx_io::tensor_from_proto(t, what, dir).to(device);
    }
  }
  return it->second;
}

void Model::check_feed(const ValueInfo& info, const Tensor& t) const {
  if (info.elem_type) {
    const auto dtype = onnx_io::dtype_from_onnx(info.elem_type);
    DLT_ONNX_SUPPORTED(dtype, "{}: input '{}' has type {}, which has no dlt tensor type", source_,
                       info.name, onnx_io::onnx_dtype_name(info.elem_type));
    DLT_CHECK(t.dtype() == *dtype, "{}: input '{}' must be {}, got {}", source_, info.name,
              info.type_str(), dtype_name(t.dtype()));
  }
  if (!info.has_shape) return;
  bool fits = t.dim() == static_cast<int64_t>(info.dims.size());
  for (size_t d = 0; fits && d < info.dims.size(); ++d) {
    const std::string& want = info.dims[d];
    if (!want.empty() && std::all_of(want.begin(), want.end(), ::isdigit))
      fits = std::stoll(want) == t.size(static_cast<int64_t>(d));
  }
  DLT_CHECK(fits, "{}: input '{}' must have shape {}, got {}", source_, info.name, info.type_str(),
            shape_str(t.shape()));
}

std::vector<std::pair<std::string, Tensor>> Model::run(const std::map<std::string, Tensor>& feeds,
                                                       Device device) const {
  const auto missing = unsupported();
  if (!missing.empty()) {
    std::vector<std::string> parts;
    for (const auto& u : missing)
      parts.push_back(fmt::format("{} ({} node{}: {})", u.op_type, u.nodes.size(),
                                  u.nodes.size() == 1 ? "" : "s", fmt::join(u.nodes, ", ")));
    throw UnsupportedError(fmt::format("{}: dlt cannot run {}", source_, fmt::join(parts, "; ")));
  }
  std::map<std::string, Tensor> values = initializers(device);
  for (const ValueInfo& info : inputs_) {
    auto it = feeds.find(info.name);
    if (it == feeds.end()) {
      std::vector<std::string> names;
      for (const auto& i : inputs_) names.push_back(i.name + ": " + i.type_str());
      throw Error(fmt::format("{}: input '{}' is not given (the model's inputs: {})", source_, info.name,
                              fmt::join(names, "; ")));
    }
    check_feed(info, it->second);
    values[info.name] = it->second.to(device);
  }
  for (const auto& feed : feeds)
    DLT_CHECK(std::any_of(inputs_.begin(), inputs_.end(), [&](const auto& i) { return i.name == feed.first; }),
              "{}: the model has no input '{}'", source_, feed.first);
  // A value is dropped after the last node that reads it (graph outputs are
  // kept), so a run holds the live activations only.
  std::map<std::string, int> last_use;
  const auto& nodes = proto_.graph().node();
  for (int i = 0; i < nodes.size(); ++i)
    for (const auto& name : nodes[i].input()) last_use[name] = i;
  for (const auto& out : outputs_) last_use[out.name] = nodes.size();
  for (int index = 0; index < nodes.size(); ++index) {
    const auto& node = nodes[index];
    std::vector<Tensor> inputs;
    for (const auto& name : node.input()) {
      if (name.empty()) {
        inputs.emplace_back();  // an optional input left out
        continue;
      }
      auto it = values.find(name);
      DLT_CHECK(it != values.end(), "{}: node '{}' ({}) reads '{}', which no earlier node produces",
                source_, node_label(node), node.op_type(), name);
      inputs.push_back(it->second);
    }
    NodeContext context(node, opset_, std::move(inputs), device);
    std::vector<Tensor> results;
    try {
      results = find_onnx_op(node.op_type())(context);
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(fmt::format("{}: {}", source_, e.what()));
    } catch (const Error& e) {
      const std::string what = e.what();
      // Messages of the op functions name the node already; dlt's ops do not.
      throw Error(what.find(context.where()) == std::string::npos
                      ? fmt::format("{}: {}: {}", source_, context.where(), what)
                      : fmt::format("{}: {}", source_, what));
    }
    for (size_t i = 0; i < static_cast<size_t>(node.output_size()); ++i) {
      if (node.output(static_cast<int>(i)).empty()) continue;
      DLT_CHECK(i < results.size(), "{}: {} gives {} outputs, the node names {}", source_,
                context.where(), results.size(), node.output_size());
      values[node.output(static_cast<int>(i))] = results[i];
    }
    for (const auto& name : node.input())
      if (!name.empty() && last_use[name] == index) values.erase(name);
  }
  std::vector<std::pair<std::string, Tensor>> outputs;
  for (const ValueInfo& info : outputs_) {
    auto it = values.find(info.name);
    DLT_CHECK(it != values.end(), "{}: graph output '{}' is never produced", source_, info.name);
    outputs.emplace_back(info.name, it->second);
  }
  return outputs;
}

}  // namespace dlt::onnx_import
