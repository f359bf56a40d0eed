// Runs the torch twin of a dlt model (tests/nn/torch_nn2_models.py) with
// dlt's weights and compares outputs, input and parameter gradients, and
// buffers. A minimal harness of NN2's own until the shared one
// (tests/nn/torch_module_parity.h, NN1) lands.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "dlt/nn/module.h"
#include "tests/test_util.h"

namespace dlt::testing {

// Whether /usr/bin/python3 can import torch (tests skip loudly otherwise).
bool torch_available();

struct TwinCase {
  // model=<GPT|...> and its options as key=value, plus mode=train|eval.
  std::map<std::string, std::string> spec;
  double rtol = 1e-5, atol = 1e-6;  // per comparison, stated by the test
};

// Snapshots model's state dict, runs dlt forward on `input` and backward of
// `grad_output`, runs the twin on the same values and adds a gtest failure
// for every output, gradient or buffer that differs.
void expect_matches_torch(nn::Module& model, const Tensor& input, const TwinCase& c,
                          uint64_t seed = 7);

}  // namespace dlt::testing
