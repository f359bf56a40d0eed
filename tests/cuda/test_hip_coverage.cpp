// The HIP build registers a kernel for every op of the op list that needs
// one, under DeviceType::hip: the CUDA kernel families compiled by hipcc,
// and the portable GEMM and convolution where the CUDA build uses cuBLASLt
// and cuDNN. Runs without a device (kernels register at start-up).
#ifdef DLT_WITH_HIP

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dlt/ops/dispatch.h"

namespace dlt {
namespace {

TEST(OpCoverage, EveryKernelOpHasAHipKernel) {
  std::vector<std::string> missing;
  for (int i = 0; i < ops::kNumOps; ++i) {
    const auto id = static_cast<ops::OpId>(i);
    if (ops::needs_kernel(id) && ops::find_kernel(id, DeviceType::hip) == nullptr)
      missing.push_back(ops::op_name(id));
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " ops of the op list have no hip kernel: "
                               << fmt::format("{}", fmt::join(missing, ", "));
}

}  // namespace
}  // namespace dlt

#endif  // DLT_WITH_HIP
