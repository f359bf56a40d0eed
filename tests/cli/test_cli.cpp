// The dlt binary end to end: version, info, usage errors.
#include <gtest/gtest.h>

#include <string>

#include "dlt/core/device_runtime.h"
#include "tests/cli/run_dlt.h"

namespace {

using Result = dlt::testing::CliResult;
Result run(const std::string& args) { return dlt::testing::run_dlt(args); }

TEST(Cli, Version) {
  const Result r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("dlt 0."), std::string::npos) << r.output;
}

TEST(Cli, InfoShowsBuildAndCpu) {
  const Result r = run("info");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* field : {"build:", "cpu:", "threads:", "oneDNN:", "ops:", "gpus:"})
    EXPECT_NE(r.output.find(field), std::string::npos) << field << " missing in\n" << r.output;
}

// Without a GPU (or a CUDA build) info says why and still succeeds; with one
// it lists each device.
TEST(Cli, InfoListsGpusOrSaysWhyThereAreNone) {
  const Result r = run("info");
  EXPECT_EQ(r.status, 0) << r.output;
  if (dlt::device_count(dlt::DeviceType::cuda) > 0) {
    EXPECT_NE(r.output.find("cuda:0: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("compute capability"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("allocator: "), std::string::npos) << r.output;
  } else if (dlt::device_runtime(dlt::DeviceType::cuda)) {
    EXPECT_NE(r.output.find("gpus:     none: no usable CUDA device: " +
                            dlt::device_unavailable_reason(dlt::DeviceType::cuda)),
              std::string::npos)
        << r.output;
  } else {
    EXPECT_NE(r.output.find("gpus:     none: this build has no CUDA backend"), std::string::npos)
        << r.output;
  }
}

TEST(Cli, NoArgumentsPrintsUsageAndExits2) {
  const Result r = run("");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
}

TEST(Cli, UnknownSubcommandExits2) {
  const Result r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("frobnicate"), std::string::npos) << r.output;
}

}  // namespace
