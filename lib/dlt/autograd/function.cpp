#include "dlt/autograd/function.h"

#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"

namespace dlt::autograd {
namespace {

class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, MultiBackwardFn backward)
      : name_(std::move(name)), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    DLT_CHECK(backward_ != nullptr,
              "trying to backward through the graph a second time ({}); the saved tensors were "
              "freed after the first backward. Pass retain_graph=true to the first backward.",
              name_);
    std::vector<Tensor> out = backward_(grads);
    DLT_ASSERT(out.size() == next_edges.size(), "{} returned {} gradients for {} inputs", name_,
               out.size(), next_edges.size());
    return out;
  }
  void release_saved() override { backward_ = nullptr; }

 private:
  std::string name_;
  MultiBackwardFn backward_;
};

}  // namespace

void attach_backward(Tensor& output, std::span<const Tensor> inputs, std::string name,
                     BackwardFn backward) {
  Tensor outputs[] = {output};
  attach_backward(outputs, inputs, std::move(name),
                  [backward = std::move(backward)](std::span<const Tensor> grads) {
                    return backward(grads[0]);
                  });
  output = outputs[0];
}

void attach_backward(std::span<Tensor> outputs, std::span<const Tensor> inputs, std::string name,
                     MultiBackwardFn backward) {
  if (!GradMode::enabled()) return;
  for (const Tensor& out : outputs)
    if (!is_floating(out.dtype())) return;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return;
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(backward));
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  for (size_t i = 0; i < outputs.size(); ++i) {
    // A fresh alias takes the node: the tensor computed may also be one the
    // backward captured, and a node that kept its own output alive would
    // never be freed.
    Tensor& out = outputs[i];
    out = out.detach();
    node->outputs.push_back({out.shape(), out.dtype(), out.device()});
    AutogradMeta& meta = out.impl()->autograd_meta();
    meta.requires_grad = true;
    meta.grad_fn = node;
    meta.output_nr = uint32_t(i);
  }
}

}  // namespace dlt::autograd
