// SGD, Adam, AdamW and RMSprop against torch 1.13: the same initial
// parameters, two parameter groups (different lr and weight decay), rates
// changed between steps as a schedule would, one parameter that misses its
// gradient on some steps and one large enough to be split over threads.
// Parameters and every state tensor are compared after every step.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "dlt/optim/optimizers.h"
#include "tests/optim/torch_runner.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

namespace fs = std::filesystem;
using optim::OptimizerOptions;
using optim::ParamGroup;

struct OptimCase {
  std::string name;
  std::string optimizer;
  OptimizerOptions options;
  double lr = 0.01, weight_decay = 0;
};

struct ParamSpec {
  std::string name;
  Shape shape;
  int group;
};

const std::vector<ParamSpec> kParams = {
    {"0.weight", {5, 7}, 0}, {"0.bias", {7}, 1},        {"blocks.1.w", {3, 4, 5}, 0},
    {"big", {70001}, 0},     {"sometimes", {4}, 1},
};
constexpr int kSteps = 6;
const std::vector<double> kLrFactors = {1, 0.9, 0.8, 1.0, 0.5, 0.7};
bool has_grad(int step, size_t param) {
  return kParams[param].name != "sometimes" || step % 2 == 1;  // first gradient at step 1
}

std::vector<OptimCase> make_cases() {
  std::vector<OptimCase> cases;
  const auto add = [&](std::string name, std::string opt, double lr, double wd,
                       OptimizerOptions o = {}) {
    cases.push_back({std::move(name), std::move(opt), o, lr, wd});
  };
  add("sgd", "sgd", 0.1, 0);
  add("sgd_wd", "sgd", 0.1, 0.05);
  add("sgd_momentum", "sgd", 0.05, 0.01, {.momentum = 0.9});
  add("sgd_dampening", "sgd", 0.05, 0, {.momentum = 0.8, .dampening = 0.3});
  add("sgd_nesterov", "sgd", 0.05, 0.02, {.momentum = 0.9, .nesterov = true});
  add("adam", "adam", 0.01, 0);
  add("adam_l2", "adam", 0.01, 0.1, {.beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6});
  add("adamw", "adamw", 0.01, 0.1);
  add("rmsprop", "rmsprop", 0.01, 0);
  add("rmsprop_momentum_wd", "rmsprop", 0.01, 0.05, {.momentum = 0.9, .alpha = 0.9});
  add("rmsprop_centered", "rmsprop", 0.005, 0.01, {.momentum = 0.5, .centered = true});
  return cases;
}
const std::vector<OptimCase>& optim_cases() {
  static const std::vector<OptimCase> cases = make_cases();
  return cases;
}

struct Key {
  size_t c;
  DType dtype;
};
std::vector<Key> all_keys() {
  std::vector<Key> keys;
  for (size_t c = 0; c < optim_cases().size(); ++c)
    for (DType t : {DType::f32, DType::f64}) keys.push_back({c, t});
  return keys;
}
std::string key_name(const Key& k) {
  return fmt::format("{}_{}", optim_cases()[k.c].name, dtype_name(k.dtype));
}
void PrintTo(const Key& k, std::ostream* os) { *os << key_name(k); }

std::vector<ParamGroup> make_groups(const OptimCase& c, const std::vector<Tensor>& params) {
  std::vector<ParamGroup> groups(2);
  groups[0].lr = groups[0].base_lr = c.lr;
  groups[0].weight_decay = c.weight_decay;
  groups[1].lr = groups[1].base_lr = c.lr * 0.5;
  groups[1].weight_decay = c.weight_decay * 0.5;
  for (size_t i = 0; i < kParams.size(); ++i)
    groups[size_t(kParams[i].group)].params.emplace_back(kParams[i].name, params[i]);
  return groups;
}

// What dlt produced after each step, by torch's key names.
using StepValues = std::map<std::string, std::vector<double>>;

// Writes one case for torch and runs dlt on it.
std::vector<StepValues> write_and_run(const Key& k, const fs::path& folder) {
  const OptimCase& c = optim_cases()[k.c];
  fs::create_directories(folder);
  Generator gen(1234 + k.c);
  std::vector<Tensor> params;
  for (size_t i = 0; i < kParams.size(); ++i) {
    Tensor p = (randn(kParams[i].shape, DType::f64, &gen) * 0.5).to(k.dtype);
    write_doubles(folder / fmt::format("init_{}.bin", i), to_vector<double>(p));
    params.push_back(p.requires_grad_());
  }
  auto opt = optim::make_optimizer(c.optimizer, make_groups(c, params), c.options);

  std::vector<StepValues> results;
  std::vector<std::string> has_grad_json, group_json;
  for (int s = 0; s < kSteps; ++s) {
    std::vector<std::string> flags;
    for (size_t i = 0; i < kParams.size(); ++i) {
      const bool has = has_grad(s, i);
      flags.push_back(has ? "1" : "0");
      Tensor g;
      if (has) {
        g = randn(kParams[i].shape, DType::f64, &gen).to(k.dtype);
        write_doubles(folder / fmt::format("grad_{}_{}.bin", s, i), to_vector<double>(g));
      }
      params[i].set_grad(g);
    }
    has_grad_json.push_back(fmt::format("[{}]", fmt::join(flags, ", ")));
    opt->set_lr_factor(kLrFactors[size_t(s)]);
    opt->step();
    StepValues values;
    for (size_t i = 0; i < kParams.size(); ++i)
      values["param." + kParams[i].name] = to_vector<double>(params[i]);
    for (const auto& [name, t] : opt->state_dict()) values[name] = to_vector<double>(t);
    results.push_back(std::move(values));
  }

  std::vector<std::string> params_json;
  for (const ParamSpec& p : kParams)
    params_json.push_back(fmt::format(R"({{"name": "{}", "shape": [{}]}})", p.name, fmt::join(p.shape, ", ")));
  for (size_t g = 0; g < 2; ++g) {
    std::vector<size_t> members;
    for (size_t i = 0; i < kParams.size(); ++i)
      if (size_t(kParams[i].group) == g) members.push_back(i);
    const ParamGroup& group = opt->groups()[g];
    group_json.push_back(fmt::format(R"({{"lr": {:.17g}, "weight_decay": {:.17g}, "params": [{}]}})",
                                     group.base_lr, group.weight_decay, fmt::join(members, ", ")));
  }
  const OptimizerOptions& o = c.options;
  std::ofstream(folder / "spec.json") << fmt::format(
      R"({{"optimizer": "{}", "dtype": "{}", "steps": {}, "lr_factors": [{:.17g}],
"options": {{"momentum": {:.17g}, "dampening": {:.17g}, "nesterov": {}, "beta1": {:.17g},
"beta2": {:.17g}, "eps": {:.17g}, "alpha": {:.17g}, "centered": {}}},
"params": [{}], "groups": [{}], "has_grad": [{}]}})",
      c.optimizer, k.dtype == DType::f32 ? "float32" : "float64", kSteps,
      fmt::join(kLrFactors, ", "), o.momentum, o.dampening, o.nesterov ? "true" : "false",
      o.beta1, o.beta2, o.eps, o.alpha, o.centered ? "true" : "false",
      fmt::join(params_json, ", "), fmt::join(group_json, ", "), fmt::join(has_grad_json, ", "));
  return results;
}

// All cases are written first and torch runs once over them.
class TorchRuns {
 public:
  static TorchRuns& get() {
    static TorchRuns runs;
    return runs;
  }
  std::string error;
  std::map<std::string, std::string> dlt_errors;
  std::map<std::string, std::vector<StepValues>> dlt;
  TempDir dir{"optim_torch"};

 private:
  TorchRuns() {
    if (!torch_available()) return;
    for (const Key& k : all_keys()) {
      try {
        dlt[key_name(k)] = write_and_run(k, dir.root() / key_name(k));
      } catch (const std::exception& e) {
        dlt_errors[key_name(k)] = e.what();
        fs::remove_all(dir.root() / key_name(k));
      }
    }
    const int rc = run_torch_script("torch_optim.py", dir.root().string());
    if (rc != 0) error = fmt::format("torch_optim.py exited with {}", rc);
  }
};

class OptimizerVsTorch : public ::testing::TestWithParam<Key> {};

TEST_P(OptimizerVsTorch, ParamsAndStateAfterEveryStep) {
  DLT_REQUIRE_TORCH();
  TorchRuns& runs = TorchRuns::get();
  ASSERT_TRUE(runs.error.empty()) << runs.error;
  const std::string name = key_name(GetParam());
  ASSERT_FALSE(runs.dlt_errors.count(name)) << "dlt failed: " << runs.dlt_errors[name];
  const bool f32 = GetParam().dtype == DType::f32;
  // Same formulas in the same order; what differs is where multiply-adds
  // are fused (torch rounds between its ops). Errors are then ulps of the
  // summands, and a momentum buffer that cancels towards 0 shows them
  // relative to its largest elements: hence the absolute part, scaled by
  // the tensor's largest magnitude.
  const double rtol = f32 ? 1e-6 : 1e-12;
  const fs::path folder = runs.dir.root() / name;
  for (int s = 0; s < kSteps; ++s) {
    SCOPED_TRACE(fmt::format("after step {}", s));
    const StepValues& ours = runs.dlt[name][size_t(s)];
    std::ifstream keys_file(folder / fmt::format("out_{}", s) / "keys.txt");
    std::set<std::string> torch_keys;
    bool torch_has_steps = false;
    for (std::string key; std::getline(keys_file, key);) {
      if (key.empty()) continue;
      torch_keys.insert(key);
      torch_has_steps = torch_has_steps || key.rfind("step.", 0) == 0;
      const auto it = ours.find(key);
      if (it == ours.end()) {
        ADD_FAILURE() << "dlt has no '" << key << "'";
        continue;
      }
      const std::vector<double> expected = read_doubles(folder / fmt::format("out_{}", s) / (key + ".bin"));
      double largest = 0;
      for (double v : expected) largest = std::max(largest, std::abs(v));
      const std::string mismatch = compare_close(it->second, expected, rtol, rtol * largest);
      EXPECT_TRUE(mismatch.empty()) << key << ": " << mismatch;
    }
    ASSERT_FALSE(torch_keys.empty()) << "torch wrote nothing for step " << s;
    for (const auto& [key, v] : ours) {
      if (key.rfind("step.", 0) == 0 && !torch_has_steps) continue;  // torch's SGD counts no steps
      EXPECT_TRUE(torch_keys.count(key)) << "dlt has '" << key << "', torch does not";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimizerVsTorch, ::testing::ValuesIn(all_keys()),
                         [](const ::testing::TestParamInfo<Key>& info) { return key_name(info.param); });

}  // namespace
}  // namespace dlt::testing
