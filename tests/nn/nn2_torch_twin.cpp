#include "tests/nn/nn2_torch_twin.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dlt/ops/ops.h"

namespace dlt::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPython = "/usr/bin/python3";

std::string file_name(std::string name) {
  for (size_t at = name.find('/'); at != std::string::npos; at = name.find('/'))
    name.replace(at, 1, "__");
  return name + ".bin";
}

// Writes tensors as raw float64 plus "NAME d0,d1" manifest lines.
class TensorFolder {
 public:
  explicit TensorFolder(fs::path dir) : dir_(std::move(dir)) {}
  void put(const std::string& name, const Tensor& t) {
    const std::vector<double> v = to_vector<double>(t);
    std::ofstream f(dir_ / file_name(name), std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(double)));
    manifest_ << name << ' ' << (t.dim() ? fmt::format("{}", fmt::join(t.shape(), ",")) : "-")
              << '\n';
  }
  void close() { std::ofstream(dir_ / "manifest.txt") << manifest_.str(); }

 private:
  fs::path dir_;
  std::ostringstream manifest_;
};

std::map<std::string, std::vector<double>> read_torch_results(const fs::path& dir) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream manifest(dir / "torch_manifest.txt");
  std::string name, dims;
  while (manifest >> name >> dims) {
    std::ifstream f(dir / file_name(name), std::ios::binary | std::ios::ate);
    std::vector<double> v(size_t(f.tellg()) / sizeof(double));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(double)));
    out.emplace(name, std::move(v));
  }
  return out;
}

void expect_close(const std::map<std::string, std::vector<double>>& torch, const std::string& name,
                  const Tensor& dlt_value, const TwinCase& c) {
  const auto it = torch.find(name);
  if (it == torch.end()) {
    ADD_FAILURE() << "torch wrote no '" << name << "'";
    return;
  }
  const std::string mismatch = compare_close(to_vector<double>(dlt_value), it->second, c.rtol, c.atol);
  EXPECT_TRUE(mismatch.empty()) << name << ": " << mismatch;
}

}  // namespace

bool torch_available() {
  static const bool ok =
      std::system(fmt::format("{} -c 'import torch' >/dev/null 2>&1", kPython).c_str()) == 0;
  return ok;
}

void expect_matches_torch(nn::Module& model, const Tensor& input, const TwinCase& c,
                          uint64_t seed) {
  std::string templ = (fs::temp_directory_path() / "dlt_nn2_twin_XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const fs::path dir = templ;

  TensorFolder folder(dir);
  for (const auto& [name, t] : model.state_dict()) folder.put("state/" + name, t);  // before forward

  const bool floating_input = is_floating(input.dtype());
  Tensor x = floating_input ? input.detach().clone().requires_grad_(true) : input;
  model.zero_grad();
  const Tensor out = model(x);
  Generator gen(seed);
  const Tensor grad_output = randn(out.shape(), out.dtype(), &gen);
  out.backward(grad_output);

  folder.put("input", input);
  folder.put("grad_output", grad_output);
  folder.close();
  std::ofstream spec(dir / "spec.txt");
  for (const auto& [k, v] : c.spec) spec << k << '=' << v << '\n';
  spec << "dtype=" << dtype_name(out.dtype()) << '\n'
       << "input_kind=" << (floating_input ? "values" : "ids") << '\n';
  spec.close();

  const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/nn/torch_nn2_models.py";
  const std::string command = fmt::format("{} {} {}", kPython, script, dir.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << "failed: " << command;
  const auto torch = read_torch_results(dir);

  expect_close(torch, "output", out, c);
  if (floating_input) expect_close(torch, "grad_input", x.grad(), c);
  for (const auto& [name, p] : model.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " got no gradient";
    expect_close(torch, "grad/" + name, p.grad(), c);
  }
  for (const auto& [name, b] : model.named_buffers()) expect_close(torch, "after/" + name, b, c);
  fs::remove_all(dir);
}

}  // namespace dlt::testing
