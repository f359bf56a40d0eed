// A backward written as a function, for composite layers that know a cheaper
// gradient than the formulas of their ops give (PyTorch's autograd.Function):
// compute the output without history, then attach the backward.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::autograd {

// Maps the gradient of the output to one gradient per input (undefined where
// an input needs none). Runs once per backward pass; what it captures is
// freed after a backward without retain_graph, so capture detached tensors.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad)>;

// Makes `output` (computed under NoGradGuard) a non-leaf whose gradient flows
// through `backward` to `inputs`, when grad mode is on and an input requires
// grad; otherwise leaves it as it is. The non-leaf is a new alias of the
// same storage, so `backward` may capture the tensor itself.
void attach_backward(Tensor& output, std::span<const Tensor> inputs, std::string name,
                     BackwardFn backward);

// The same for several outputs (a recurrence's sequence and final states):
// the backward gets one gradient per output, zeros for an output that
// received none.
using MultiBackwardFn = std::function<std::vector<Tensor>(std::span<const Tensor> grads)>;
void attach_backward(std::span<Tensor> outputs, std::span<const Tensor> inputs, std::string name,
                     MultiBackwardFn backward);

}  // namespace dlt::autograd
