#include "dlt/autograd/function.h"

#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"

namespace dlt::autograd {
namespace {

class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, BackwardFn backward)
      : name_(std::move(name)), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    DLT_CHECK(backward_ != nullptr,
              "trying to backward through the graph a second time ({}); the saved tensors were "
              "freed after the first backward. Pass retain_graph=true to the first backward.",
              name_);
    std::vector<Tensor> out = backward_(grads.at(0));
    DLT_ASSERT(out.size() == next_edges.size(), "{} returned {} gradients for {} inputs", name_,
               out.size(), next_edges.size());
    return out;
  }
  void release_saved() override { backward_ = nullptr; }

 private:
  std::string name_;
  BackwardFn backward_;
};

}  // namespace

void attach_backward(Tensor& output, std::span<const Tensor> inputs, std::string name,
                     BackwardFn backward) {
  if (!GradMode::enabled() || !is_floating(output.dtype())) return;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return;
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(backward));
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  node->outputs.push_back({output.shape(), output.dtype(), output.device()});
  AutogradMeta& meta = output.impl()->autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  meta.output_nr = 0;
}

}  // namespace dlt::autograd
