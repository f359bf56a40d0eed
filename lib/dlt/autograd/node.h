// The backward graph. Every op that records history creates one Node; each
// Node points at the nodes that produced its inputs (next_edges). Leaves end
// in an AccumulateGrad node that adds into .grad.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::autograd {

class Node;

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;  // which output of fn's forward op this gradient is for
  bool valid() const { return fn != nullptr; }
};

// Geometry of one forward output, to make a zero gradient when none flows.
struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

class Node {
 public:
  Node();
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // grads[i] is the gradient of forward output i (zeros if none flowed);
  // returns one gradient per forward input (undefined where not needed).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Frees saved tensors after a backward without retain_graph.
  virtual void release_saved() {}

  uint64_t sequence_nr() const { return sequence_nr_; }

  std::vector<Edge> next_edges;
  std::vector<OutputMeta> outputs;
  // Hooks on the gradient of output i, before apply (Tensor::register_hook).
  std::map<uint32_t, std::vector<GradHook>> pre_hooks;
  // Outputs whose gradient is kept on the tensor (retain_grad).
  std::map<uint32_t, std::weak_ptr<TensorImpl>> retained;

 private:
  uint64_t sequence_nr_;
};

// Adds the incoming gradient into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  std::string name() const override { return "AccumulateGrad"; }
  // Runs the leaf's hooks, adds into .grad, then runs its post-accumulate hooks.
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;

 private:
  // Strong: a leaf stays alive while a graph that updates it exists. The
  // leaf holds only a weak pointer back, so there is no cycle.
  std::shared_ptr<TensorImpl> leaf_;
};

// The edge a gradient for `t` must flow along: its grad_fn, its (lazily
// made) AccumulateGrad if it is a leaf requiring grad, or none.
Edge gradient_edge(const Tensor& t);
// A user error if t is a view whose base was modified in place under
// autograd after the view was taken (its recorded history is stale).
void check_not_stale(const Tensor& t);
std::shared_ptr<AccumulateGrad> grad_accumulator(const Tensor& leaf);

}  // namespace dlt::autograd
