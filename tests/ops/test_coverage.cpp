// Coverage derived from the op list: every op needing a kernel has a CPU
// kernel, every differentiable op has its backward formula, and every op has
// at least one row in the op test table (so gradcheck and torch parity run).
#include <set>

#include "dlt/autograd/formula.h"
#include "tests/ops/op_case.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using ops::OpId;

std::vector<OpId> all_ops() {
  std::vector<OpId> ids;
  for (int i = 0; i < ops::kNumOps; ++i) ids.push_back(static_cast<OpId>(i));
  return ids;
}

// Ops whose results are random or are plain fills: their tests live in
// tests/core (statistics, determinism), not in the torch-compared table.
// The fused optimizer updates change their operands in place over several
// steps: tests/optim compares them with torch's optimizers step by step.
// Loss scaling's unscale_check is tested with the GradScaler (tests/amp),
// clipping's sum_squares with gradient clipping (tests/optim).
const std::set<std::string> kTestedOutsideTable = {"fill",     "range",     "uniform",
                                                   "normal",   "randint",   "dropout",
                                                   "sgd_step", "adam_step", "rmsprop_step",
                                                   "unscale_check", "sum_squares"};

// In every instruction set the build carries (lib/dlt/core/cpu_isa.h).
TEST(OpCoverage, EveryKernelOpHasACpuKernel) {
  for (CpuIsa isa : ops::compiled_cpu_isas()) {
    for (OpId id : all_ops()) {
      if (ops::needs_kernel(id)) {
        EXPECT_NE(ops::find_cpu_kernel(id, isa), nullptr)
            << "op '" << ops::op_name(id) << "' has no cpu kernel for " << cpu_isa_name(isa);
      }
    }
  }
}

TEST(OpCoverage, EveryDifferentiableOpHasABackwardFormula) {
  for (OpId id : all_ops()) {
    if (ops::needs_formula(id)) {
      EXPECT_NE(autograd::find_formula(id), nullptr)
          << "op '" << ops::op_name(id) << "' has no backward formula";
    }
  }
}

TEST(OpCoverage, EveryOpHasATestRow) {
  std::set<std::string> covered, gradchecked;
  for (const OpCase& c : op_cases()) {
    covered.insert(c.op);
    if (c.gradcheck) gradchecked.insert(c.op);
  }
  for (OpId id : all_ops()) {
    const std::string name = ops::op_name(id);
    if (ops::op_info(id).kind == ops::OpKind::Backward || kTestedOutsideTable.count(name)) continue;
    EXPECT_TRUE(covered.count(name)) << "op '" << name << "' has no row in the op test table";
    if (ops::is_differentiable(id)) {
      EXPECT_TRUE(gradchecked.count(name)) << "differentiable op '" << name << "' has no gradcheck row";
    }
  }
}

TEST(OpCoverage, EveryRowNamesAnOpOfTheList) {
  std::set<std::string> names;
  for (OpId id : all_ops()) names.insert(ops::op_name(id));
  for (const OpCase& c : op_cases())
    EXPECT_TRUE(names.count(c.op)) << "row '" << case_name(c) << "' names no op of the op list";
}

}  // namespace
}  // namespace dlt::testing
