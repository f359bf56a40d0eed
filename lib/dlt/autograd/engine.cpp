#include "dlt/autograd/engine.h"
#include "dlt/core/trace.h"

#include <queue>
#include <unordered_map>

#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"
#include "dlt/ops/autocast.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {

namespace {

struct ByNewestFirst {
  bool operator()(const Node* a, const Node* b) const {
    return a->sequence_nr() < b->sequence_nr();
  }
};

// Number of edges into each node reachable from the roots.
std::unordered_map<Node*, int> count_dependencies(const std::vector<Edge>& roots) {
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (const Edge& e : roots)
    if (e.valid() && !seen[e.fn.get()]) {
      seen[e.fn.get()] = true;
      stack.push_back(e.fn.get());
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++deps[e.fn.get()];
      if (!seen[e.fn.get()]) {
        seen[e.fn.get()] = true;
        stack.push_back(e.fn.get());
      }
    }
  }
  return deps;
}

void accumulate(Tensor& slot, Tensor g) {
  slot = slot.defined() ? add(slot, g) : std::move(g);
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
              bool retain_graph) {
  DLT_ASSERT(roots.size() == grads.size(), "one gradient per root");
  NoGradGuard no_grad;  // formulas build no history
  const AutocastGuard no_autocast(std::nullopt);  // each formula runs in its forward's dtypes

  std::vector<Edge> root_edges;
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    DLT_CHECK(r.requires_grad(),
              "element {} of tensors does not require grad and does not have a grad_fn", i);
    check_not_stale(r);
    Tensor g = grads[i];
    if (!g.defined()) {
      DLT_CHECK(r.numel() == 1,
                "grad can be implicitly created only for scalar outputs (got shape {})",
                shape_str(r.shape()));
      g = ones(r.shape(), TensorOptions(r.dtype()).device(r.device()));
    }
    DLT_CHECK(g.shape() == r.shape(), "backward: gradient of shape {} for a tensor of shape {}",
              shape_str(g.shape()), shape_str(r.shape()));
    Edge e = gradient_edge(r);
    root_edges.push_back(e);
    auto& buf = buffers[e.fn.get()];
    buf.resize(e.fn->outputs.size());
    accumulate(buf[e.input_nr], g);
    keep_alive[e.fn.get()] = e.fn;
  }

  std::unordered_map<Node*, int> deps = count_dependencies(root_edges);
  std::priority_queue<Node*, std::vector<Node*>, ByNewestFirst> ready;
  for (const Edge& e : root_edges)
    if (deps[e.fn.get()] == 0 && keep_alive.count(e.fn.get())) {
      ready.push(e.fn.get());
      deps[e.fn.get()] = -1;  // queued once
    }

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    std::vector<Tensor> in = std::move(buffers[node]);
    buffers.erase(node);
    in.resize(node->outputs.size());
    for (size_t i = 0; i < in.size(); ++i) {
      const OutputMeta& m = node->outputs[i];
      if (!in[i].defined()) in[i] = zeros(m.shape, TensorOptions(m.dtype).device(m.device));
      if (auto it = node->pre_hooks.find(uint32_t(i)); it != node->pre_hooks.end())
        for (auto& hook : it->second)
          if (auto replaced = hook(in[i])) in[i] = *replaced;
      if (auto it = node->retained.find(uint32_t(i)); it != node->retained.end())
        if (auto impl = it->second.lock();
            impl && impl->autograd && impl->autograd->grad_fn.get() == node) {
          Tensor& slot = impl->autograd_meta().grad;
          slot = slot.defined() ? add(slot, in[i]) : in[i].clone();
        }
    }
    std::vector<Tensor> out;
    {
      const trace::Scope scope("backward", [&] { return node->name(); });
      out = node->apply(std::move(in));
    }
    if (!retain_graph) node->release_saved();
    for (size_t i = 0; i < node->next_edges.size() && i < out.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      Node* next = e.fn.get();
      if (out[i].defined()) {
        const OutputMeta& m = next->outputs[e.input_nr];
        DLT_ASSERT(out[i].shape() == m.shape, "{} produced a gradient of shape {} for input {} of shape {}",
                   node->name(), shape_str(out[i].shape()), i, shape_str(m.shape));
        auto& buf = buffers[next];
        buf.resize(next->outputs.size());
        accumulate(buf[e.input_nr], out[i].dtype() == m.dtype ? out[i] : out[i].to(m.dtype));
      }
      if (--deps[next] == 0) {
        keep_alive[next] = e.fn;
        ready.push(next);
      }
    }
  }
}

}  // namespace dlt::autograd

namespace dlt {

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph);
}

void Tensor::register_hook(GradHook hook) const {
  DLT_CHECK(requires_grad(), "cannot register a hook on a tensor that does not require grad");
  if (grad_fn())
    grad_fn()->pre_hooks[output_nr()].push_back(std::move(hook));
  else
    impl()->autograd_meta().leaf_hooks.push_back(std::move(hook));
}

void Tensor::register_post_accumulate_hook(std::function<void(const Tensor&)> hook) const {
  DLT_CHECK(requires_grad() && is_leaf(),
            "post-accumulate hooks are only for leaf tensors that require grad");
  impl()->autograd_meta().post_accumulate_hooks.push_back(std::move(hook));
}

void Tensor::retain_grad() const {
  DLT_CHECK(requires_grad(), "retain_grad() on a tensor that does not require grad");
  if (is_leaf()) return;  // leaves keep .grad anyway
  impl()->autograd_meta().retains_grad = true;
  grad_fn()->retained[output_nr()] = impl_ptr();
}

}  // namespace dlt
