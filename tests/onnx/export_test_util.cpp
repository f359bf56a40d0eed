#include "tests/onnx/export_test_util.h"

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "tests/cli/run_dlt.h"

namespace dlt::onnx_export::testing {

namespace {

std::string dim_param(const onnx::ValueInfoProto& v, int i) {
  const auto& shape = v.type().tensor_type().shape();
  return i < shape.dim_size() ? shape.dim(i).dim_param() : std::string();
}

}  // namespace

void expect_export_structure(const onnx::ModelProto& m, const nn::Module& model, bool dynamic_seq) {
  const std::regex constant(R"(^(const\..+|causal_mask|rotary\.(cos|sin)|.+\.scales)$)");
  const auto state = model.state_dict();
  std::set<std::string> names;
  std::map<const void*, std::string> stored;  // tensor memory -> initializer
  for (const onnx::TensorProto& init : m.graph().initializer()) {
    const std::string& name = init.name();
    EXPECT_TRUE(names.insert(name).second) << "initializer " << name << " twice";
    const auto it = state.find(name);
    if (it == state.end()) {
      EXPECT_TRUE(std::regex_match(name, constant))
          << "initializer " << name << " is no state-dict name";
      continue;
    }
    const Tensor t = it->second.contiguous();
    EXPECT_EQ(init.raw_data(),
              std::string(static_cast<const char*>(t.raw_data()), t.numel() * t.element_size()))
        << "initializer " << name << " differs from the state dict's tensor";
    const auto [at, fresh] = stored.emplace(it->second.raw_data(), name);
    EXPECT_TRUE(fresh) << "one tensor stored twice: " << at->second << " and " << name;
    EXPECT_EQ(name.find("num_batches_tracked"), std::string::npos) << name;
  }
  for (const auto& [name, p] : model.named_parameters())
    EXPECT_TRUE(names.count(name)) << "parameter " << name << " is not in the graph";
  ASSERT_EQ(m.graph().input_size(), 1);
  ASSERT_EQ(m.graph().output_size(), 1);
  const onnx::ValueInfoProto& in = m.graph().input(0);
  EXPECT_EQ(dim_param(in, 0), "batch");
  if (dynamic_seq) EXPECT_EQ(dim_param(in, 1), "seq");
  else EXPECT_TRUE(dim_param(in, 1).empty()) << "dim_param " << dim_param(in, 1) << " on dim 1";
  EXPECT_EQ(dim_param(m.graph().output(0), 0), "batch");
  EXPECT_EQ(m.ir_version(), 8);
  EXPECT_EQ(m.producer_name(), "dlt");
  EXPECT_EQ(m.producer_version(), DLT_VERSION);
}

void run_ort_check(const std::string& manifest_path, const nlohmann::json& cases) {
  std::ofstream(manifest_path) << nlohmann::json{{"cases", cases}}.dump(1);
  const dlt::testing::CliResult r = dlt::testing::run_shell(
      fmt::format("python3 {}/tests/onnx/check_export_ort.py {}", DLT_SOURCE_DIR, manifest_path));
  if (r.status == 77) GTEST_SKIP() << "SKIPPED LOUDLY: " << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
  std::printf("%s", r.output.c_str());  // the per-case numbers, for the log
}

}  // namespace dlt::onnx_export::testing
