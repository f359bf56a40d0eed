// Forward and backward parity of every op-table row with torch 1.13 (CPU,
// /usr/bin/python3), or the torch of $DLT_TORCH_PY (ctest ops.torch2_parity:
// the current one). All rows are written to one folder and torch runs once;
// each row is then its own test, with the row's per-dtype tolerances.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "dlt/ops/autocast.h"
#include "tests/ops/op_case.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

namespace fs = std::filesystem;


std::string dtype_key(DType t) { return std::string(dtype_name(t)); }


// Minimal extraction from the flat JSON lines torch_ops.py writes.
std::string json_field(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  const size_t at = line.find(key);
  if (at == std::string::npos) return {};
  size_t start = at + key.size();
  if (line[start] == '"') {
    std::string out;
    for (size_t i = start + 1; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      out += line[i];
    }
    return out;
  }
  int depth = 0;
  size_t end = start;
  for (; end < line.size(); ++end) {
    const char ch = line[end];
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if ((ch == ',' || ch == '}') && depth == 0) break;
  }
  return line.substr(start, end - start);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

struct RowRun {
  Inputs inputs;
  Tensor output;
  std::vector<Tensor> grads;  // per input; undefined when not differentiated
};

// torch.autocast("cpu", bfloat16) against dlt's autocast, from f32 inputs:
// ops that run in bf16 (their cast policy, or torch's CPU list) within the
// row's stated bf16 tolerance, else bf16's own (torch.testing's rtol 1.6e-2);
// ops neither side lowers within the row's f32 tolerance. Rows of ops that
// never run under autocast (backward kernels) have none.
constexpr Tolerance kBf16Default{DType::bf16, 1.6e-2, 1.6e-2};

// The tolerance of a row's gradient `expected` (torch's). Against a torch
// other than the oracle (DLT_TORCH_PY; ctest ops.torch2_parity runs torch
// 2.15), its bf16 convolution gradients stray from the float64 result by up
// to 6 bf16 ulps of the gradient's largest element where sums cancel (0.18
// where the largest |dx| is near 6), while dlt's are that result rounded once
// (AutocastAccuracy.ConvGradientsAreTheFloat64ResultRounded). So there a
// convolution row's bf16 gradients get 4x its stated tolerance, the absolute
// part scaled by the gradient's largest element.
Tolerance gradient_tolerance(const OpCase& c, Tolerance t, const std::vector<double>& expected) {
  const bool oracle = std::string(torch_python()) == kPython;
  if (oracle || t.dtype != DType::bf16 || c.torch.find("conv") == std::string::npos) return t;
  double scale = 1;
  for (const double v : expected) scale = std::max(scale, std::abs(v));
  return {t.dtype, 4 * t.rtol, 4 * t.atol * scale};
}

std::optional<Tolerance> autocast_tolerance(const OpCase& c) {
  const ops::CastPolicy policy = ops::cast_policy(op_by_name(c.op));
  if (policy == ops::CastPolicy::Outside) return std::nullopt;
  std::optional<Tolerance> f32, bf16;
  for (const Tolerance& t : c.tolerances) {
    if (t.dtype == DType::f32) f32 = t;
    if (t.dtype == DType::bf16) bf16 = t;
  }
  if (policy == ops::CastPolicy::Lower || !f32 || c.torch.find("matmul") != std::string::npos ||
      c.torch.find("F.linear") != std::string::npos || c.torch.find("conv") != std::string::npos)
    return bf16.value_or(kBf16Default);
  return f32;
}

// Everything torch needs for one (row, dtype), and dlt's own results.
class ParityData {
 public:
  static ParityData& get() {
    static ParityData data;
    return data;
  }
  bool torch_available = false;
  std::string setup_error;
  fs::path dir;
  std::map<std::string, RowRun> dlt;
  std::map<std::string, std::string> torch_results;  // key -> json line

 private:
  ~ParityData() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  ParityData() {
    torch_available = testing::torch_available();
    if (!torch_available) return;
    dir = fs::temp_directory_path() / fmt::format("dlt_parity_{}", ::getpid());
    fs::create_directories(dir);
    std::ofstream manifest(dir / "manifest.jsonl");
    for (size_t i = 0; i < op_cases().size(); ++i) {
      const OpCase& c = op_cases()[i];
      if (!c.parity) continue;
      for (const Tolerance& tol : c.tolerances) {
        const std::string key = fmt::format("r{}_{}", i, dtype_key(tol.dtype));
        try {
          write_row(manifest, c, key, tol.dtype);
        } catch (const std::exception& e) {
          dlt[key] = RowRun{};
          errors_[key] = e.what();
        }
      }
      if (autocast_tolerance(c)) {
        const std::string key = fmt::format("r{}_autocast", i);
        try {
          write_row(manifest, c, key, DType::f32, DType::bf16);
        } catch (const std::exception& e) {
          dlt[key] = RowRun{};
          errors_[key] = e.what();
        }
      }
    }
    manifest.close();
    const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/parity/torch_ops.py";
    const int rc = std::system(fmt::format("{} {} {}", torch_python(), script, dir.string()).c_str());
    if (rc != 0) {
      setup_error = fmt::format("torch_ops.py exited with {}", rc);
      return;
    }
    std::ifstream results(dir / "results.jsonl");
    for (std::string line; std::getline(results, line);)
      torch_results[json_field(line, "key")] = line;
  }

  // `autocast`: f32 inputs, the forward pass under autocast to that dtype.
  void write_row(std::ofstream& manifest, const OpCase& c, const std::string& key, DType dtype,
                 std::optional<DType> autocast = std::nullopt) {
    RowRun run;
    run.inputs = make_inputs(c, dtype, case_seed(c));
    std::string inputs_json;
    for (size_t k = 0; k < run.inputs.size(); ++k) {
      Tensor& x = run.inputs[k];
      const std::string file = fmt::format("{}_in{}.bin", key, k);
      write_doubles(dir / file, to_vector<double>(x));
      const bool grad = c.inputs[k].grad && is_floating(x.dtype());
      if (grad) x.requires_grad_(true);
      inputs_json += fmt::format(R"({}{{"file": "{}", "shape": [{}], "dtype": "{}", "grad": {}, "noncontig": {}}})",
                                 k ? ", " : "", file, fmt::join(x.shape(), ", "), dtype_name(x.dtype()),
                                 grad ? "true" : "false", c.inputs[k].noncontig ? "true" : "false");
    }
    {
      const AutocastGuard region(autocast);
      run.output = c.fn(run.inputs);
    }
    std::string upstream = "null";
    if (run.output.requires_grad()) {
      Generator gen(case_seed(c) ^ 0x5151);
      const Tensor w = randn(run.output.shape(), DType::f64, &gen).to(run.output.dtype());
      write_doubles(dir / (key + "_up.bin"), to_vector<double>(w));
      upstream = "\"" + key + "_up.bin\"";
      run.output.backward(w);
      for (const Tensor& x : run.inputs) run.grads.push_back(x.requires_grad() ? x.grad() : Tensor());
    }
    const std::string autocast_json = autocast ? fmt::format("\"{}\"", dtype_name(*autocast)) : "null";
    manifest << fmt::format(R"({{"key": "{}", "expr": "{}", "inputs": [{}], "upstream": {}, "autocast": {}}})", key,
                            json_escape(c.torch), inputs_json, upstream, autocast_json)
             << "\n";
    dlt[key] = std::move(run);
  }

 public:
  std::map<std::string, std::string> errors_;  // dlt failed on the row
};

class TorchParity : public ::testing::TestWithParam<size_t> {};

TEST_P(TorchParity, ForwardAndBackward) {
  const OpCase& c = op_cases()[GetParam()];
  ParityData& data = ParityData::get();
  if (!data.torch_available) {
    std::fprintf(stderr, "SKIPPED: torch parity: %s cannot import torch (apt-get install python3-torch)\n",
                 torch_python());
    GTEST_SKIP() << "SKIPPED LOUDLY: " << torch_python() << " cannot import torch; install python3-torch";
  }
  ASSERT_TRUE(data.setup_error.empty()) << data.setup_error;
  for (const Tolerance& tol : c.tolerances) {
    const std::string key = fmt::format("r{}_{}", GetParam(), dtype_key(tol.dtype));
    SCOPED_TRACE(fmt::format("{} in {}", case_name(c), dtype_name(tol.dtype)));
    if (auto it = data.errors_.find(key); it != data.errors_.end()) {
      ADD_FAILURE() << "dlt failed: " << it->second;
      continue;
    }
    const std::string& line = data.torch_results[key];
    ASSERT_FALSE(line.empty()) << "no torch result";
    const std::string torch_error = json_field(line, "error");
    ASSERT_TRUE(torch_error.empty()) << "torch failed on `" << c.torch << "`: " << torch_error;
    const RowRun& result = data.dlt[key];
    EXPECT_EQ(fmt::format("[{}]", fmt::join(result.output.shape(), ", ")), json_field(line, "shape"));
    const std::string out_err = compare_close(to_vector<double>(result.output),
                                              read_doubles(data.dir / (key + "_out.bin")), tol.rtol, tol.atol);
    EXPECT_TRUE(out_err.empty()) << "forward: " << out_err;
    for (size_t k = 0; k < result.grads.size(); ++k) {
      if (!result.grads[k].defined()) continue;
      const fs::path torch_grad = data.dir / fmt::format("{}_grad{}.bin", key, k);
      if (!fs::exists(torch_grad)) {
        ADD_FAILURE() << "torch has no gradient for input " << k;
        continue;
      }
      const std::vector<double> expected = read_doubles(torch_grad);
      const Tolerance gtol = gradient_tolerance(c, tol, expected);
      const std::string err =
          compare_close(to_vector<double>(result.grads[k]), expected, gtol.rtol, gtol.atol);
      EXPECT_TRUE(err.empty()) << "gradient of input " << k << ": " << err;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, TorchParity, ::testing::ValuesIn(parity_rows()),
                         [](const auto& info) { return case_test_name(info.param); });

class TorchAutocastParity : public ::testing::TestWithParam<size_t> {};

TEST_P(TorchAutocastParity, ForwardAndBackward) {
  const OpCase& c = op_cases()[GetParam()];
  const std::optional<Tolerance> tol = autocast_tolerance(c);
  if (!tol) GTEST_SKIP() << c.op << " never runs under autocast";
  ParityData& data = ParityData::get();
  if (!data.torch_available)
    GTEST_SKIP() << "SKIPPED LOUDLY: " << torch_python() << " cannot import torch; install python3-torch";
  ASSERT_TRUE(data.setup_error.empty()) << data.setup_error;
  const std::string key = fmt::format("r{}_autocast", GetParam());
  SCOPED_TRACE(fmt::format("{} under autocast(bfloat16), rtol {} atol {}", case_name(c), tol->rtol, tol->atol));
  if (auto it = data.errors_.find(key); it != data.errors_.end()) FAIL() << "dlt failed: " << it->second;
  const std::string& line = data.torch_results[key];
  ASSERT_FALSE(line.empty()) << "no torch result";
  const std::string torch_error = json_field(line, "error");
  ASSERT_TRUE(torch_error.empty()) << "torch failed on `" << c.torch << "`: " << torch_error;
  const RowRun& result = data.dlt[key];
  const std::string out_err = compare_close(to_vector<double>(result.output),
                                            read_doubles(data.dir / (key + "_out.bin")), tol->rtol, tol->atol);
  EXPECT_TRUE(out_err.empty()) << "forward: " << out_err;
  for (size_t k = 0; k < result.grads.size(); ++k) {
    if (!result.grads[k].defined()) continue;
    const fs::path torch_grad = data.dir / fmt::format("{}_grad{}.bin", key, k);
    ASSERT_TRUE(fs::exists(torch_grad)) << "torch has no gradient for input " << k;
    const std::vector<double> expected = read_doubles(torch_grad);
    const Tolerance gtol = gradient_tolerance(c, *tol, expected);
    const std::string err = compare_close(to_vector<double>(result.grads[k]), expected, gtol.rtol, gtol.atol);
    EXPECT_TRUE(err.empty()) << "gradient of input " << k << ": " << err;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, TorchAutocastParity, ::testing::ValuesIn(parity_rows()),
                         [](const auto& info) { return case_test_name(info.param); });

}  // namespace
}  // namespace dlt::testing
