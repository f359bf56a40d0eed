// Runs the backward graph from one or more roots.
#pragma once

#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::autograd {

// Backpropagates `grads` (one per root; a scalar root may pass undefined for
// 1) through the graph, accumulating into the leaves' .grad.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
              bool retain_graph = false);

}  // namespace dlt::autograd
