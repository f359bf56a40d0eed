// The ONNX importer on a CUDA device: every ONNX node test that passes on the
// CPU (tests/onnx/node_tests_passing.txt) passes on the GPU too, compared with
// ONNX's expected outputs. Skipped without a device or without onnx 1.22.0's
// test folders (python3 -m pip install onnx==1.22.0).
#include <fstream>

#include "dlt/onnx/import/node_tests.h"
#include "tests/cli/run_dlt.h"
#include "tests/cuda/cuda_test_util.h"

namespace dlt::testing {
namespace {

std::string node_test_folder() {
  const auto r = run_shell(
      "python3 -c \"import onnx, os; assert onnx.__version__ == '1.22.0'; "
      "print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'), end='')\" 2>/dev/null");
  return r.status == 0 ? r.output : "";
}

TEST(CudaOnnx, NodeTestsThatPassOnTheCpuPassOnTheGpu) {
  DLT_SKIP_WITHOUT_CUDA();
  const std::string folder = node_test_folder();
  if (folder.empty()) GTEST_SKIP() << "ONNX's node tests need onnx 1.22.0 for python3";
  std::ifstream list(std::string(DLT_SOURCE_DIR) + "/tests/onnx/node_tests_passing.txt");
  ASSERT_TRUE(list);
  int passed = 0;
  for (std::string name; std::getline(list, name);) {
    if (name.empty() || name[0] == '#') continue;
    const auto r = onnx_import::run_node_test(std::filesystem::path(folder) / name, Device::cuda());
    EXPECT_EQ(r.status, onnx_import::NodeTestResult::Status::passed) << name << ": " << r.reason;
    passed += r.status == onnx_import::NodeTestResult::Status::passed;
  }
  EXPECT_GT(passed, 1000);
}

}  // namespace
}  // namespace dlt::testing
