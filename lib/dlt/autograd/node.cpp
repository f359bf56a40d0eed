#include "dlt/autograd/node.h"

#include <atomic>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};
}

Node::Node() : sequence_nr_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  Tensor leaf(leaf_);
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  NoGradGuard no_grad;
  AutogradMeta& meta = leaf_->autograd_meta();
  for (auto& hook : meta.leaf_hooks)
    if (auto replaced = hook(g)) g = *replaced;
  if (!meta.grad.defined()) {
    // Own the memory: the incoming gradient may alias another node's buffer.
    const bool owned = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 &&
                       g.dtype() == leaf.dtype() && g.is_contiguous() && !g.is_view();
    meta.grad = owned ? g : g.to(leaf.dtype()).clone();
  } else {
    meta.grad.add_(g);
  }
  for (auto& hook : meta.post_accumulate_hooks) hook(leaf);
  return {};
}

std::shared_ptr<AccumulateGrad> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& meta = leaf.impl()->autograd_meta();
  if (auto existing = meta.grad_accumulator.lock())
    return std::static_pointer_cast<AccumulateGrad>(existing);
  auto acc = std::make_shared<AccumulateGrad>(leaf.impl_ptr());
  acc->outputs.push_back({leaf.shape(), leaf.dtype(), leaf.device()});
  meta.grad_accumulator = acc;
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  if (t.grad_fn()) return {t.grad_fn(), t.output_nr()};
  return {grad_accumulator(t), 0};
}

}  // namespace dlt::autograd
