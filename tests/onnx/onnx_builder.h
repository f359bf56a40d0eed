// Small ONNX models written in tests: a graph of nodes over named values,
// with tensor inputs, outputs and initializers.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "dlt/onnx/proto.h"

namespace dlt::testing {

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    model_.set_producer_name("dlt-tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
  }

  // dims: numbers, or "" / a name for symbolic dims.
  OnnxBuilder& input(const std::string& name, int32_t elem_type, std::vector<std::string> dims) {
    value(model_.mutable_graph()->add_input(), name, elem_type, dims);
    return *this;
  }
  OnnxBuilder& output(const std::string& name, int32_t elem_type, std::vector<std::string> dims = {}) {
    value(model_.mutable_graph()->add_output(), name, elem_type, dims);
    return *this;
  }
  OnnxBuilder& initializer(const std::string& name, const Tensor& t) {
    onnx_io::tensor_to_proto(t, name, model_.mutable_graph()->add_initializer());
    return *this;
  }
  // The node, for attributes: add_int(node, "axis", 1).
  onnx::NodeProto& node(const std::string& op_type, std::vector<std::string> inputs,
                        std::vector<std::string> outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (auto& i : inputs) n->add_input(i);
    for (auto& o : outputs) n->add_output(o);
    return *n;
  }
  static void add_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void add_ints(onnx::NodeProto& n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  const onnx::ModelProto& model() const { return model_; }

 private:
  static void value(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type,
                    const std::vector<std::string>& dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem_type);
    auto* shape = t->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = shape->add_dim();
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
      else if (!d.empty()) dim->set_dim_param(d);
    }
  }
  onnx::ModelProto model_;
};

// A node-test folder as ONNX's suite lays it out: model.onnx and
// test_data_set_0/{input_0,output_0}.pb (rewritten when it exists).
inline void write_node_test(const std::filesystem::path& dir, const onnx::ModelProto& model,
                            const Tensor& input, const Tensor& output) {
  std::filesystem::create_directories(dir / "test_data_set_0");
  onnx_io::save_model(model, (dir / "model.onnx").string());
  for (const auto& [name, t] : {std::pair{"input_0.pb", input}, std::pair{"output_0.pb", output}}) {
    onnx::TensorProto proto;
    onnx_io::tensor_to_proto(t, "", &proto);
    std::ofstream out(dir / "test_data_set_0" / name, std::ios::binary | std::ios::trunc);
    proto.SerializeToOstream(&out);
  }
}

}  // namespace dlt::testing
