// The CPU kernel sets through the binary: `dlt info` says which runs,
// DLT_CPU_ISA forces one (a bad value stops a run with its reason), and
// every set this CPU runs trains the same model to the same losses, within
// what the order of a vector sum changes (f32) or one bf16 rounding (bf16).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dlt/core/cpu_isa.h"
#include "dlt/ops/dispatch.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"

namespace dlt {
namespace {

using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using dlt::testing::train_losses;
using ::testing::HasSubstr;

bool portable_build() {
  const auto sets = ops::compiled_cpu_isas();
  return sets.size() > 1;
}

TEST(CliCpuIsa, InfoSaysWhichKernelsRun) {
  if (!portable_build()) GTEST_SKIP() << "a -DDLT_NATIVE=ON build carries one set, native";
  const CliResult best = run_dlt("info");
  ASSERT_EQ(best.status, 0) << best.output;
  EXPECT_THAT(best.output, HasSubstr(fmt::format("kernels:  {} (this CPU's best of baseline, avx2, avx512, avx512_bf16; "
                                                 "DLT_CPU_ISA forces one)",
                                                 cpu_isa_name(choose_cpu_isa("", ops::compiled_cpu_isas(), cpu_runs)))));
  const CliResult forced = dlt::testing::run_shell("DLT_CPU_ISA=baseline " + dlt::testing::dlt_program() + " info");
  ASSERT_EQ(forced.status, 0) << forced.output;
  EXPECT_THAT(forced.output, HasSubstr("kernels:  baseline (forced by DLT_CPU_ISA; this CPU's best of"));
  const CliResult bad = dlt::testing::run_shell("DLT_CPU_ISA=avx9 " + dlt::testing::dlt_program() + " info");
  EXPECT_EQ(bad.status, 0) << bad.output;  // info runs anywhere and says why
  EXPECT_THAT(bad.output, HasSubstr("kernels:  cannot choose: DLT_CPU_ISA=avx9: expected one of"));
}

class CliCpuIsaTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    data::testing::write_classification(tmp.path("data.h5"), 256, 64, 24, 4);
    cfg = tmp.path("isa.yaml");
    data::testing::write_file(cfg, fmt::format(R"(name: isa
seed: 11
data: {{file: {}, train: {{x: train/x, y: train/y}}, val: {{x: val/x, y: val/y}}, batch_size: 32, workers: 1}}
model:
  - {{type: Linear, out: 64}}
  - {{type: LayerNorm}}
  - {{type: GELU}}
  - {{type: Dropout, p: 0.1}}
  - {{type: Linear, out: 4}}
optim: {{name: adamw, lr: 0.003}}
train: {{steps: 40, log_every: 1, eval_every: 20, threads: 1}}
checkpoint: {{every: 0}}
)",
                                               tmp.path("data.h5")));
  }

  std::vector<std::pair<int64_t, double>> losses(const std::string& isa, const std::string& precision) {
    const std::string run = tmp.path(isa + "-" + precision);
    const CliResult r = dlt::testing::run_shell(fmt::format("DLT_CPU_ISA={} {} train {} --run-dir {} --set train.precision={}",
                                                            isa, dlt::testing::dlt_program(), cfg, run, precision));
    EXPECT_EQ(r.status, 0) << isa << ": " << r.output;
    return train_losses(run);
  }

  TempDir tmp;
  std::string cfg;
};

TEST_F(CliCpuIsaTrain, EverySetThisCpuRunsTrainsAlike) {
  if (!portable_build()) GTEST_SKIP() << "a -DDLT_NATIVE=ON build carries one set, native";
  for (const auto& [precision, tolerance] : {std::pair{"f32", 1e-5}, std::pair{"bf16", 5e-3}}) {
    const auto reference = losses("baseline", precision);
    ASSERT_EQ(reference.size(), 40u) << precision;
    for (CpuIsa isa : ops::compiled_cpu_isas()) {
      if (isa == CpuIsa::baseline) continue;
      if (!cpu_runs(isa)) {
        std::printf("[ SKIPPED  ] %s: this CPU cannot run it\n", cpu_isa_name(isa));
        continue;
      }
      const auto got = losses(cpu_isa_name(isa), precision);
      ASSERT_EQ(got.size(), reference.size()) << cpu_isa_name(isa);
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(got[i].second - reference[i].second) / std::abs(reference[i].second));
      EXPECT_LE(worst, tolerance) << cpu_isa_name(isa) << " " << precision;
      std::printf("%s %s: largest relative loss difference to baseline %.2e\n", cpu_isa_name(isa), precision, worst);
    }
  }
}

TEST_F(CliCpuIsaTrain, ABadDltCpuIsaStopsTheRunWithItsReason) {
  const CliResult r = dlt::testing::run_shell(fmt::format("DLT_CPU_ISA=avx9 {} train {} --run-dir {}",
                                                          dlt::testing::dlt_program(), cfg, tmp.path("bad")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: DLT_CPU_ISA=avx9: expected one of baseline, avx2, avx512, avx512_bf16, native"));
}

}  // namespace
}  // namespace dlt
