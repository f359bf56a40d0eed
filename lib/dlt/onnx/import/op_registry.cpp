#include "dlt/onnx/import/op_registry.h"

#include <algorithm>

#include "dlt/onnx/proto.h"

namespace dlt::onnx_import {

namespace {
std::map<std::string, OnnxOp>& table() {
  static std::map<std::string, OnnxOp> ops;
  return ops;
}
}  // namespace

bool register_onnx_op(const char* op_type, OnnxOp op) {
  DLT_ASSERT(table().emplace(op_type, op).second, "ONNX op {} registered twice", op_type);
  return true;
}

OnnxOp find_onnx_op(const std::string& op_type) {
  auto it = table().find(op_type);
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> registered_onnx_ops() {
  std::vector<std::string> names;
  for (const auto& [name, op] : table()) names.push_back(name);
  return names;
}

NodeContext::NodeContext(const onnx::NodeProto& node, int64_t opset, std::vector<Tensor> inputs,
                         Device device)
    : node_(node), opset_(opset), inputs_(std::move(inputs)), device_(device) {
  for (const auto& a : node.attribute()) attrs_[a.name()] = &a;
}

std::string NodeContext::where() const {
  if (!node_.name().empty()) return fmt::format("node '{}' ({})", node_.name(), node_.op_type());
  for (const auto& out : node_.output())
    if (!out.empty()) return fmt::format("node with output '{}' ({})", out, node_.op_type());
  return fmt::format("a node without outputs ({})", node_.op_type());
}

const Tensor& NodeContext::input(size_t i) const {
  DLT_CHECK(has_input(i), "{}: input {} is missing", where(), i);
  return inputs_[i];
}

std::vector<int64_t> NodeContext::input_ints(size_t i) const {
  const Tensor t = input(i).to(Device::cpu()).to(DType::i64).contiguous();
  const int64_t* p = t.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

std::vector<double> NodeContext::input_doubles(size_t i) const {
  const Tensor t = input(i).to(Device::cpu()).to(DType::f64).contiguous();
  const double* p = t.data_ptr<double>();
  return std::vector<double>(p, p + t.numel());
}

double NodeContext::input_scalar(size_t i) const {
  const Tensor& t = input(i);
  DLT_CHECK(t.numel() == 1, "{}: input {} must hold one value, got shape {}", where(), i,
            shape_str(t.shape()));
  return t.to(Device::cpu()).to(DType::f64).item<double>();
}

const onnx::AttributeProto& NodeContext::attr(const std::string& name,
                                              onnx::AttributeProto::AttributeType type) const {
  auto it = attrs_.find(name);
  DLT_CHECK(it != attrs_.end(), "{}: attribute '{}' is required", where(), name);
  const onnx::AttributeProto& a = *it->second;
  DLT_CHECK(!a.has_type() || a.type() == type, "{}: attribute '{}' has type {}, expected {}",
            where(), name, onnx::AttributeProto::AttributeType_Name(a.type()),
            onnx::AttributeProto::AttributeType_Name(type));
  return a;
}

int64_t NodeContext::attr_int(const std::string& name, std::optional<int64_t> fallback) const {
  if (!has_attr(name) && fallback) return *fallback;
  return attr(name, onnx::AttributeProto::INT).i();
}

double NodeContext::attr_float(const std::string& name, std::optional<double> fallback) const {
  if (!has_attr(name) && fallback) return *fallback;
  return attr(name, onnx::AttributeProto::FLOAT).f();
}

std::string NodeContext::attr_string(const std::string& name,
                                     std::optional<std::string> fallback) const {
  if (!has_attr(name) && fallback) return *fallback;
  return attr(name, onnx::AttributeProto::STRING).s();
}

std::vector<int64_t> NodeContext::attr_ints(const std::string& name,
                                            std::optional<std::vector<int64_t>> fallback) const {
  if (!has_attr(name) && fallback) return *fallback;
  const auto& a = attr(name, onnx::AttributeProto::INTS);
  return {a.ints().begin(), a.ints().end()};
}

std::vector<float> NodeContext::attr_floats(const std::string& name) const {
  const auto& a = attr(name, onnx::AttributeProto::FLOATS);
  return {a.floats().begin(), a.floats().end()};
}

Tensor NodeContext::attr_tensor(const std::string& name) const {
  const auto& a = attr(name, onnx::AttributeProto::TENSOR);
  const std::string what = fmt::format("{}: attribute '{}'", where(), name);
  if (!onnx_io::dtype_from_onnx(a.t().data_type()))
    throw UnsupportedError(fmt::format("{}: data type {} has no dlt tensor type", what,
                                       onnx_io::onnx_dtype_name(a.t().data_type())));
  return onnx_io::tensor_from_proto(a.t(), what).to(device());
}

int64_t wrap_axis(int64_t axis, int64_t rank, const NodeContext& node) {
  DLT_CHECK(axis >= -rank && axis < std::max<int64_t>(rank, 1), "{}: axis {} is out of range for rank {}",
            node.where(), axis, rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace dlt::onnx_import
