// The profiler on a GPU: every op that ran on the device also appears on the
// device's own track, timed by events on its compute stream and placed on the
// host's timeline no earlier than its launch. Skips without a usable CUDA
// device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "dlt/core/trace.h"
#include "dlt/ops/ops.h"
#include "dlt/train/json.h"
#include "tests/cuda/gpu_compare.h"

namespace dlt {
namespace {

struct Range {
  int64_t tid;
  std::string cat, name;
  double ts, dur;
};

std::vector<Range> ranges_of(const std::string& json) {
  std::vector<Range> out;
  const train::Json doc = train::parse_json(json);
  for (const train::Json& e : doc.at("traceEvents").items("traceEvents")) {
    if (e.at("ph").as_string("ph") != "X") continue;
    out.push_back({e.at("tid").as_int("tid"), e.at("cat").as_string("cat"), e.at("name").as_string("name"),
                   e.at("ts").as_double("ts"), e.at("dur").as_double("dur")});
  }
  return out;
}

TEST(CudaProfile, KernelsAppearOnTheDevicesTrackByItsClock) {
  DLT_SKIP_WITHOUT_CUDA();
  const Device gpu = Device::cuda(0);
  const Tensor a = randn({512, 512}).to(gpu), b = randn({512, 512}).to(gpu);
  synchronize(gpu);
  trace::start();
  Tensor c = a;
  for (int i = 0; i < 5; ++i) c = relu(matmul(c, b));
  const trace::Recorded r = trace::stop();

  std::vector<Range> host_ops, kernels;
  for (const Range& e : ranges_of(r.chrome_json)) {
    if (e.cat == "kernel") kernels.push_back(e);
    if (e.cat == "op") host_ops.push_back(e);
  }
  ASSERT_EQ(host_ops.size(), 10u);
  ASSERT_EQ(kernels.size(), 10u);  // one per op, in launch order
  for (size_t i = 0; i < kernels.size(); ++i) {
    EXPECT_EQ(kernels[i].name, host_ops[i].name);
    EXPECT_GE(kernels[i].tid, 1000);
    EXPECT_GT(kernels[i].dur, 0);
    EXPECT_GE(kernels[i].ts + 1.0, host_ops[i].ts) << "a kernel cannot start before its launch";
    if (i > 0) {
      EXPECT_GE(kernels[i].ts + 1e-3, kernels[i - 1].ts + kernels[i - 1].dur) << "one stream, no overlap";
    }
  }
  // The table counts the device's times.
  EXPECT_THAT(r.op_table, ::testing::ContainsRegex(" 5 +[0-9.]+ +[0-9.]+% +matmul"));
}

}  // namespace
}  // namespace dlt
