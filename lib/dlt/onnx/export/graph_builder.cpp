#include "dlt/onnx/export/graph_builder.h"

#include <fmt/format.h>

#include "dlt/core/error.h"
#include "dlt/onnx/proto.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_export {

onnx::AttributeProto attr(const std::string& name, int64_t value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

onnx::AttributeProto attr(const std::string& name, double value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(float(value));
  return a;
}

onnx::AttributeProto attr(const std::string& name, const std::string& value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(value);
  return a;
}

onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
  return a;
}

std::string GraphBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int& n = next_[base]; used_.count(name);) name = fmt::format("{}_{}", base, ++n);
  used_.insert(name);
  return name;
}

std::vector<std::string> GraphBuilder::add(const std::string& op_type,
                                           const std::vector<std::string>& inputs, int outputs,
                                           Attrs attrs) {
  onnx::NodeProto* node = graph_->add_node();
  const std::string scope = scopes_.empty() ? std::string() : scopes_.back();
  const std::string name = unique(scope.empty() ? op_type : scope + "/" + op_type);
  node->set_name(name);
  node->set_op_type(op_type);
  // Optional inputs left out at the end are dropped, not named "".
  size_t n = inputs.size();
  while (n > 0 && inputs[n - 1].empty()) --n;
  for (size_t i = 0; i < n; ++i) node->add_input(inputs[i]);
  std::vector<std::string> out;
  for (int i = 0; i < outputs; ++i) {
    out.push_back(i == 0 ? name : unique(fmt::format("{}:{}", name, i)));
    node->add_output(out.back());
  }
  for (onnx::AttributeProto& a : attrs) *node->add_attribute() = std::move(a);
  return out;
}

std::string GraphBuilder::initializer(const std::string& name, const Tensor& t) {
  const auto key = std::make_tuple(static_cast<const void*>(t.raw_data()), int(t.dtype()),
                                   t.shape(), t.strides());
  if (const auto it = stored_.find(key); it != stored_.end()) return it->second;
  DLT_ASSERT(!used_.count(name), "initializer name {} is taken", name);
  used_.insert(name);
  onnx_io::tensor_to_proto(t, name, graph_->add_initializer());
  stored_.emplace(key, name);
  return name;
}

std::string GraphBuilder::constant(const std::string& name, const Tensor& value) {
  if (const auto it = constants_.find(name); it != constants_.end()) {
    DLT_ASSERT(it->second == value.shape(), "constant {} asked for with shapes {} and {}", name,
               shape_str(it->second), shape_str(value.shape()));
    return name;
  }
  DLT_ASSERT(!used_.count(name), "constant name {} is taken", name);
  used_.insert(name);
  constants_[name] = value.shape();
  onnx_io::tensor_to_proto(value, name, graph_->add_initializer());
  return name;
}

std::string GraphBuilder::ints(const std::vector<int64_t>& values) {
  const std::string name = fmt::format("const.ints.{}", fmt::join(values, "_"));
  if (constants_.count(name)) return name;
  return constant(name, from_blob(values.data(), {int64_t(values.size())}, DType::i64));
}

std::string GraphBuilder::int_scalar(int64_t value) {
  const std::string name = fmt::format("const.int.{}", value);
  if (constants_.count(name)) return name;
  return constant(name, from_blob(&value, {}, DType::i64));
}

std::string GraphBuilder::scalar(double value, DType dtype) {
  const std::string name = fmt::format("const.{}.{}", dtype_name(dtype), value);
  if (constants_.count(name)) return name;
  return constant(name, full({}, value, dtype));
}

namespace {

void set_type(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type,
              const std::vector<int64_t>& dims) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  for (int64_t d : dims) {
    onnx::TensorShapeProto_Dimension* dim = shape->add_dim();
    if (d == kBatchDim) dim->set_dim_param("batch");
    else if (d == kSeqDim) dim->set_dim_param("seq");
    else if (d >= 0) dim->set_dim_value(d);
    // kUnknownDim: neither a value nor a name
  }
}

}  // namespace

void GraphBuilder::add_input(const std::string& name, int32_t elem_type,
                             const std::vector<int64_t>& dims) {
  DLT_ASSERT(!used_.count(name), "graph input name {} is taken", name);
  used_.insert(name);
  set_type(graph_->add_input(), name, elem_type, dims);
}

void GraphBuilder::add_output(const std::string& name, int32_t elem_type,
                              const std::vector<int64_t>& dims) {
  set_type(graph_->add_output(), name, elem_type, dims);
}

bool GraphBuilder::is_node_output(const std::string& name) const {
  for (const onnx::NodeProto& n : graph_->node())
    for (const std::string& o : n.output())
      if (o == name) return true;
  return false;
}

void GraphBuilder::rename_value(const std::string& from, const std::string& to) {
  DLT_ASSERT(!used_.count(to), "value name {} is taken", to);
  used_.insert(to);
  if (!is_node_output(from)) {  // the graph input itself, or a constant
    onnx::NodeProto* node = graph_->add_node();
    node->set_name(to + "/Identity");
    node->set_op_type("Identity");
    node->add_input(from);
    node->add_output(to);
    return;
  }
  for (onnx::NodeProto& n : *graph_->mutable_node()) {
    for (std::string& o : *n.mutable_output())
      if (o == from) o = to;
    for (std::string& i : *n.mutable_input())
      if (i == from) i = to;
  }
}

}  // namespace dlt::onnx_export
