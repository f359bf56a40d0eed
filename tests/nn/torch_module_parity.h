// Parity of whole nn modules with torch 1.13 (CPU, /usr/bin/python3; or the
// torch of $DLT_TORCH_PY, tests/test_util.h): each case runs its dlt module
// forward and backward, writes the module's state dict (taken before the
// forward), the input and the upstream gradient as float64 files, and
// tests/nn/torch_modules.py builds the torch module from a Python expression,
// loads that state dict with load_state_dict(strict=True) (so dlt's parameter
// names must be torch's), and runs the same forward and backward. torch runs
// once for all cases of one TorchModuleParity.
//
//   TorchModuleParity parity({{.name = "linear", .module = m, .input = x,
//                              .torch = "nn.Linear(5, 3)"}});
//   DLT_REQUIRE_TORCH();
//   parity.expect_match("linear");
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dlt/core/grad_mode.h"
#include "dlt/nn/module.h"
#include "dlt/ops/ops.h"
#include "tests/require_torch.h"
#include "tests/test_util.h"

namespace dlt::testing {

struct ModuleCase {
  std::string name;  // unique within one TorchModuleParity; a file name stem
  std::shared_ptr<nn::Module> module;
  Tensor input;       // (B, *): floating (gets a gradient) or int64 indices
  std::string torch;  // Python building the torch module (names: torch, nn, F,
                      // and the helpers of torch_modules.py: Residual, Reshape)
  bool training = true;
  // Module outputs are compared in the module's dtype; float64 cases agree
  // to rounding, so the defaults are tight.
  double rtol = 1e-9, atol = 1e-10;
};

class TorchModuleParity {
 public:
  explicit TorchModuleParity(std::vector<ModuleCase> cases);
  ~TorchModuleParity();
  TorchModuleParity(const TorchModuleParity&) = delete;
  TorchModuleParity& operator=(const TorchModuleParity&) = delete;

  std::vector<std::string> names() const;  // of the cases, sorted
  // EXPECTs that torch loaded the state dict and that the output, the input's
  // gradient, every parameter's gradient and every buffer after the forward
  // (BatchNorm's running statistics) match torch's.
  void expect_match(const std::string& name) const;

 private:
  struct Run {
    ModuleCase c;
    Tensor output, input_grad;
    std::vector<std::pair<std::string, Tensor>> parameters, buffers;
    std::string dlt_error;
  };
  void run_dlt(Run& run);
  std::filesystem::path dir_;
  bool torch_available_ = false;
  std::string setup_error_;
  std::map<std::string, Run> runs_;
  std::map<std::string, std::string> torch_errors_;  // name -> error ("" when ok)
  std::map<std::string, std::string> torch_shapes_;  // name -> output shape
};

// The module with every parameter drawn from N(0, 0.25): initialisations
// leave biases zero and norms at one, and random values make a parity cover
// how every parameter enters.
template <class M>
std::shared_ptr<M> randomized(std::shared_ptr<M> m, uint64_t seed) {
  Generator gen(seed);
  NoGradGuard no_grad;
  for (auto& [name, p] : m->named_parameters()) p.copy_(randn(p.shape(), p.dtype(), &gen) * 0.5);
  return m;
}

}  // namespace dlt::testing
