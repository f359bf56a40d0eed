#include "dlt/onnx/import/node_tests.h"

#include <cmath>
#include <fstream>

#include "dlt/onnx/import/model.h"
#include "dlt/onnx/import/op_registry.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {

namespace fs = std::filesystem;
using Status = NodeTestResult::Status;

const char* status_name(Status s) {
  switch (s) {
    case Status::passed: return "passed";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
  }
  return "?";
}

std::vector<fs::path> find_node_tests(const fs::path& path) {
  DLT_CHECK(fs::is_directory(path), "{}: not a folder", path.string());
  if (fs::exists(path / "model.onnx")) return {path};
  std::vector<fs::path> tests;
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_directory() && fs::exists(entry.path() / "model.onnx")) tests.push_back(entry.path());
  std::sort(tests.begin(), tests.end());
  return tests;
}

namespace {

onnx::TensorProto read_tensor(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  onnx::TensorProto t;
  DLT_CHECK(in && t.ParseFromIstream(&in), "{}: not a TensorProto", file.string());
  return t;
}

Tensor load_tensor(const fs::path& file) {
  const onnx::TensorProto t = read_tensor(file);
  DLT_ONNX_SUPPORTED(onnx_io::dtype_from_onnx(t.data_type()), "{}: data type {}", file.filename().string(),
                     onnx_io::onnx_dtype_name(t.data_type()));
  return onnx_io::tensor_from_proto(t, file.string());
}

// Empty when `got` matches `want`, else what differs.
std::string compare(const std::string& name, const Tensor& got_in, const Tensor& want) {
  const Tensor got = got_in.to(Device::cpu());
  if (got.dtype() != want.dtype())
    return fmt::format("output '{}' is {}, expected {}", name, dtype_name(got.dtype()), dtype_name(want.dtype()));
  if (got.shape() != want.shape())
    return fmt::format("output '{}' has shape {}, expected {}", name, shape_str(got.shape()),
                       shape_str(want.shape()));
  const Tensor g = got.to(DType::f64).contiguous(), w = want.to(DType::f64).contiguous();
  const double *pg = g.data_ptr<double>(), *pw = w.data_ptr<double>();
  const bool exact = !is_floating(want.dtype());
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double a = pg[i], b = pw[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    const bool ok = exact ? a == b : (a == b || std::abs(a - b) <= 1e-7 + 1e-3 * std::abs(b));
    if (!ok) return fmt::format("output '{}' element {}: {} vs expected {}", name, i, a, b);
  }
  return {};
}

}  // namespace

NodeTestResult run_node_test(const fs::path& dir, Device device) {
  NodeTestResult result;
  result.name = dir.filename().string();
  try {
    const Model model = Model::load((dir / "model.onnx").string());
    for (const auto& [op, count] : model.op_counts()) result.ops.push_back(op);
    for (const auto& io : {model.inputs(), model.outputs()})
      for (const ValueInfo& v : io)
        DLT_ONNX_SUPPORTED(v.elem_type != 0, "'{}' is not a tensor (a sequence, map or optional)", v.name);
    std::vector<fs::path> sets;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_directory() && entry.path().filename().string().starts_with("test_data_set_"))
        sets.push_back(entry.path());
    std::sort(sets.begin(), sets.end());
    DLT_CHECK(!sets.empty(), "{}: no test_data_set_* folder", dir.string());
    for (const fs::path& set : sets) {
      std::map<std::string, Tensor> feeds;
      for (size_t i = 0; i < model.inputs().size(); ++i) {
        const fs::path file = set / fmt::format("input_{}.pb", i);
        DLT_CHECK(fs::exists(file), "{}: missing", file.string());
        feeds[model.inputs()[i].name] = load_tensor(file);
      }
      const auto outputs = model.run(feeds, device);
      for (size_t i = 0; i < outputs.size(); ++i) {
        const std::string diff = compare(outputs[i].first, outputs[i].second,
                                         load_tensor(set / fmt::format("output_{}.pb", i)));
        if (!diff.empty()) {
          result.reason = fmt::format("{}: {}", set.filename().string(), diff);
          return result;
        }
      }
    }
    result.status = Status::passed;
  } catch (const UnsupportedError& e) {
    result.status = Status::skipped;
    result.reason = e.what();
  } catch (const std::exception& e) {
    result.reason = e.what();
  }
  return result;
}

}  // namespace dlt::onnx_import
