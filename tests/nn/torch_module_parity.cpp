#include "tests/nn/torch_module_parity.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

namespace dlt::testing {

namespace fs = std::filesystem;

namespace {


std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string tensor_json(const std::string& file, const Tensor& t) {
  return fmt::format(R"({{"file": "{}", "shape": [{}], "dtype": "{}"}})", file,
                     fmt::join(t.shape(), ", "), dtype_name(t.dtype()));
}

}  // namespace

TorchModuleParity::TorchModuleParity(std::vector<ModuleCase> cases) {
  static std::atomic<int> counter{0};
  dir_ = fs::temp_directory_path() / fmt::format("dlt_module_parity_{}_{}", ::getpid(), counter++);
  fs::create_directories(dir_);
  std::ofstream manifest(dir_ / "manifest.jsonl");
  for (ModuleCase& c : cases) {
    Run& run = runs_[c.name];
    run.c = std::move(c);
    const ModuleCase& mc = run.c;
    // The state before the forward: what torch starts from.
    std::string state_json;
    for (const auto& [name, t] : mc.module->state_dict()) {
      const std::string file = fmt::format("{}.state.{}.bin", mc.name, name);
      write_doubles(dir_ / file, to_vector<double>(t));
      state_json += fmt::format("{}{}: {}", state_json.empty() ? "" : ", ", json_string(name),
                                tensor_json(file, t));
    }
    write_doubles(dir_ / (mc.name + ".input.bin"), to_vector<double>(mc.input));
    run_dlt(run);
    if (!run.dlt_error.empty()) continue;
    manifest << fmt::format(
        R"({{"name": {}, "torch": {}, "training": {}, "input": {}, "state": {{{}}}}})",
        json_string(mc.name), json_string(mc.torch), mc.training ? "true" : "false",
        tensor_json(mc.name + ".input.bin", mc.input), state_json)
             << "\n";
  }
  manifest.close();
  torch_available_ = testing::torch_available();
  if (!torch_available_) return;
  const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/nn/torch_modules.py";
  const int rc = std::system(fmt::format("{} {} {}", torch_python(), script, dir_.string()).c_str());
  if (rc != 0) {
    setup_error_ = fmt::format("torch_modules.py exited with status {}", rc);
    return;
  }
  // results.tsv: name TAB error (empty when ok) TAB output shape ("[4, 3]")
  std::ifstream results(dir_ / "results.tsv");
  for (std::string line; std::getline(results, line);) {
    const size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    if (tab1 == std::string::npos || tab2 == std::string::npos) continue;
    const std::string case_name = line.substr(0, tab1);
    torch_errors_[case_name] = line.substr(tab1 + 1, tab2 - tab1 - 1);
    torch_shapes_[case_name] = line.substr(tab2 + 1);
  }
}

TorchModuleParity::~TorchModuleParity() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::vector<std::string> TorchModuleParity::names() const {
  std::vector<std::string> out;
  for (const auto& [name, run] : runs_) out.push_back(name);
  return out;
}

void TorchModuleParity::run_dlt(Run& run) {
  const ModuleCase& c = run.c;
  try {
    c.module->train(c.training);
    Tensor x = c.input.detach();
    if (is_floating(x.dtype())) x.requires_grad_(true);
    run.output = c.module->forward(x);
    // A fixed, non-uniform upstream gradient so every output element matters.
    Generator gen(0x9a7d);
    const Tensor upstream = randn(run.output.shape(), run.output.dtype(), &gen);
    write_doubles(dir_ / (c.name + ".upstream.bin"), to_vector<double>(upstream));
    if (run.output.requires_grad()) run.output.backward(upstream);
    if (x.requires_grad()) run.input_grad = x.grad();
    run.parameters = c.module->named_parameters();
    run.buffers = c.module->named_buffers();
  } catch (const std::exception& e) {
    run.dlt_error = e.what();
  }
}

void TorchModuleParity::expect_match(const std::string& name) const {
  SCOPED_TRACE("module parity case '" + name + "'");
  ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  const auto it = runs_.find(name);
  ASSERT_NE(it, runs_.end()) << "no such case";
  const Run& run = it->second;
  ASSERT_TRUE(run.dlt_error.empty()) << "dlt failed: " << run.dlt_error;
  const auto torch_it = torch_errors_.find(name);
  ASSERT_NE(torch_it, torch_errors_.end()) << "torch produced no result";
  ASSERT_TRUE(torch_it->second.empty()) << "torch failed on `" << run.c.torch << "`: "
                                        << torch_it->second;
  EXPECT_EQ(shape_str(run.output.shape()), torch_shapes_.at(name)) << "output shape";
  const double rtol = run.c.rtol, atol = run.c.atol;
  const auto expect_close = [&](const Tensor& t, const std::string& file, const std::string& what) {
    const fs::path path = dir_ / file;
    if (!fs::exists(path)) {
      ADD_FAILURE() << what << ": torch wrote no " << file;
      return;
    }
    const std::string err = compare_close(to_vector<double>(t), read_doubles(path), rtol, atol);
    EXPECT_TRUE(err.empty()) << what << ": " << err;
  };
  expect_close(run.output, name + ".output.bin", "output");
  if (run.input_grad.defined()) expect_close(run.input_grad, name + ".input_grad.bin", "input gradient");
  for (const auto& [pname, p] : run.parameters) {
    if (!p.grad().defined()) {
      EXPECT_FALSE(fs::exists(dir_ / fmt::format("{}.grad.{}.bin", name, pname)))
          << "torch has a gradient for " << pname << ", dlt has none";
      continue;
    }
    expect_close(p.grad(), fmt::format("{}.grad.{}.bin", name, pname), "gradient of " + pname);
  }
  for (const auto& [bname, b] : run.buffers)
    expect_close(b, fmt::format("{}.after.{}.bin", name, bname), "buffer " + bname + " after forward");
}

}  // namespace dlt::testing
