// The CPU kernel sets (lib/dlt/core/cpu_isa.h): which set runs, how
// DLT_CPU_ISA forces one, and that a portable build carries them all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "dlt/core/cpu_isa.h"
#include "dlt/core/error.h"
#include "dlt/ops/dispatch.h"

namespace dlt {
namespace {

using ::testing::HasSubstr;

const std::vector<CpuIsa> kPortable = {CpuIsa::baseline, CpuIsa::avx2, CpuIsa::avx512, CpuIsa::avx512_bf16};
const std::vector<CpuIsa> kBaselineOnly = {CpuIsa::baseline}, kNativeOnly = {CpuIsa::native};

bool runs_up_to_avx2(CpuIsa isa) { return isa <= CpuIsa::avx2; }
bool runs_all(CpuIsa) { return true; }

std::string error_of(std::string_view requested, const std::vector<CpuIsa>& compiled, bool (*runs)(CpuIsa)) {
  try {
    choose_cpu_isa(requested, compiled, runs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CpuIsa, TheBestSetTheCpuRunsIsChosen) {
  EXPECT_EQ(choose_cpu_isa("", kPortable, runs_up_to_avx2), CpuIsa::avx2);
  EXPECT_EQ(choose_cpu_isa("", kPortable, runs_all), CpuIsa::avx512_bf16);
  EXPECT_EQ(choose_cpu_isa("", kBaselineOnly, runs_all), CpuIsa::baseline);
  EXPECT_EQ(choose_cpu_isa("", kNativeOnly, runs_up_to_avx2), CpuIsa::native);
}

TEST(CpuIsa, DltCpuIsaForcesASet) {
  EXPECT_EQ(choose_cpu_isa("baseline", kPortable, runs_all), CpuIsa::baseline);
  EXPECT_EQ(choose_cpu_isa("avx2", kPortable, runs_all), CpuIsa::avx2);
  EXPECT_EQ(choose_cpu_isa("native", kNativeOnly, runs_all), CpuIsa::native);
}

TEST(CpuIsa, ABadChoiceNamesTheVariableAndTheReason) {
  EXPECT_THAT(error_of("avx9", kPortable, runs_all),
              HasSubstr("DLT_CPU_ISA=avx9: expected one of baseline, avx2, avx512, avx512_bf16, native"));
  EXPECT_THAT(error_of("avx512", kPortable, runs_up_to_avx2),
              HasSubstr("DLT_CPU_ISA=avx512: this CPU cannot run avx512 instructions"));
  EXPECT_THAT(error_of("avx2", kNativeOnly, runs_all),
              HasSubstr("DLT_CPU_ISA=avx2: this build carries CPU kernels for native only (it was configured with "
                        "-DDLT_NATIVE=ON"));
  EXPECT_THAT(error_of("native", kPortable, runs_all),
              HasSubstr("carries CPU kernels for baseline, avx2, avx512, avx512_bf16 only"));
}

TEST(CpuIsa, NamesRoundTrip) {
  for (int i = 0; i < kNumCpuIsas; ++i) {
    const auto isa = static_cast<CpuIsa>(i);
    EXPECT_EQ(parse_cpu_isa(cpu_isa_name(isa)), isa);
  }
  EXPECT_EQ(parse_cpu_isa("AVX2"), std::nullopt);
}

TEST(CpuIsa, ThisCpuRunsWhatItsFeaturesSay) {
  EXPECT_TRUE(cpu_runs(CpuIsa::baseline));
  EXPECT_TRUE(cpu_runs(CpuIsa::native));
#if defined(__x86_64__)
  __builtin_cpu_init();
  EXPECT_EQ(cpu_runs(CpuIsa::avx2), bool(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
  EXPECT_EQ(cpu_runs(CpuIsa::avx512), bool(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")));
  EXPECT_LE(cpu_runs(CpuIsa::avx512_bf16), cpu_runs(CpuIsa::avx512));
#endif
}

// The vectorised kernel files have a copy per set; oneDNN's wrappers (matmul,
// conv2d) are compiled once and every set falls back to them.
TEST(CpuIsa, APortableBuildCarriesEverySet) {
#if defined(DLT_NATIVE) || !defined(__x86_64__)
  GTEST_SKIP() << "a -DDLT_NATIVE=ON build carries one set, native";
#else
  ASSERT_EQ(ops::compiled_cpu_isas(), kPortable);
  for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx512, CpuIsa::avx512_bf16}) {
    EXPECT_NE(ops::find_cpu_kernel(ops::OpId::softmax, isa), ops::find_cpu_kernel(ops::OpId::softmax, CpuIsa::baseline))
        << cpu_isa_name(isa);
    EXPECT_EQ(ops::find_cpu_kernel(ops::OpId::matmul, isa), ops::find_cpu_kernel(ops::OpId::matmul, CpuIsa::baseline))
        << cpu_isa_name(isa);
  }
#endif
}

}  // namespace
}  // namespace dlt
