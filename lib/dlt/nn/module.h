// Module: a node of the model tree with named parameters, buffers and
// children, like torch.nn.Module. Names are dotted paths
// ("blocks.0.attn.qkv.weight") so state dicts interoperate with PyTorch.
// Shapes in comments exclude nothing: x is (B, *) with B the batch.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dlt/core/tensor.h"
#include "dlt/core/trace.h"

namespace dlt::nn {

class Module {
 public:
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x) = 0;
  // forward(), as a "forward" range of the profiler's trace when it records.
  Tensor operator()(const Tensor& x) {
    const trace::Scope scope("forward", [this] { return type(); });
    return forward(x);
  }

  // The layer's registry name ("Linear") and its options for summaries
  // ("in=784, out=512, bias=true").
  virtual std::string type() const = 0;
  virtual std::string describe() const { return {}; }

  // Train / eval mode, recursively (dropout and batch norm differ).
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // Parameters and buffers of this module and all descendants, in
  // registration order, with dotted names; a tensor shared by several
  // modules (tied weights) appears once, under its first name.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Tensor> parameters() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  int64_t num_parameters() const;

  // Parameters and buffers by name: what model.safetensors stores. A shared
  // tensor appears under every name, as in torch.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values into the existing tensors (optimizers keep their handles).
  // A missing or unexpected name, or a shape or dtype that differs, is an error
  // that lists every such name.
  void load_state_dict(const std::map<std::string, Tensor>& state);

  void zero_grad();  // every parameter's .grad becomes undefined

  // Moves every parameter and buffer (and gradient) to `device` in place, as
  // torch's module.to(): the tensor handles layers and optimizers hold see the
  // new memory. A no-op for tensors already there.
  void to(Device device);

 protected:
  // Registers a tensor as a parameter (it then requires grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  // Appends every parameter (or buffer) of the subtree, duplicates included.
  void collect(const std::string& prefix, bool parameters,
               std::vector<std::pair<std::string, Tensor>>& out) const;

  std::vector<std::pair<std::string, Tensor>> parameters_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace dlt::nn
