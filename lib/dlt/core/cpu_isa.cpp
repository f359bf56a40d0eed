#include "dlt/core/cpu_isa.h"

#include <algorithm>

#include "dlt/core/error.h"

namespace dlt {

namespace {

constexpr const char* kNames[kNumCpuIsas] = {"baseline", "avx2", "avx512", "avx512_bf16", "native"};

}  // namespace

const char* cpu_isa_name(CpuIsa isa) { return kNames[static_cast<int>(isa)]; }

std::string cpu_isa_names(std::span<const CpuIsa> isas) {
  std::string s;
  for (CpuIsa isa : isas) s += (s.empty() ? "" : ", ") + std::string(cpu_isa_name(isa));
  return s;
}

std::optional<CpuIsa> parse_cpu_isa(std::string_view name) {
  for (int i = 0; i < kNumCpuIsas; ++i)
    if (name == kNames[i]) return static_cast<CpuIsa>(i);
  return std::nullopt;
}

bool cpu_runs(CpuIsa isa) {
#if defined(__x86_64__)
  // The compiler runtime's answers include the OS check (XCR0 enables the
  // YMM/ZMM state). GCC knows the x86-64 levels by name; clang's runtime
  // (the fuzz build) knows the features that every CPU of a level has.
  __builtin_cpu_init();
#if defined(__clang__)
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
#else
  const bool v3 = __builtin_cpu_supports("x86-64-v3"), v4 = __builtin_cpu_supports("x86-64-v4");
#endif
  switch (isa) {
    case CpuIsa::baseline:
    case CpuIsa::native: return true;
    case CpuIsa::avx2: return v3;
    case CpuIsa::avx512: return v4;
    case CpuIsa::avx512_bf16: return v4 && __builtin_cpu_supports("avx512bf16");
  }
  return false;
#else
  return isa == CpuIsa::baseline || isa == CpuIsa::native;
#endif
}

CpuIsa choose_cpu_isa(std::string_view requested, std::span<const CpuIsa> compiled, bool (*runs)(CpuIsa)) {
  DLT_ASSERT(!compiled.empty(), "no CPU kernels registered");
  if (requested.empty()) {
    CpuIsa best = compiled.front();
    for (CpuIsa isa : compiled)
      if (runs(isa) && isa > best) best = isa;
    return best;
  }
  const std::optional<CpuIsa> isa = parse_cpu_isa(requested);
  DLT_CHECK(isa.has_value(), "DLT_CPU_ISA={}: expected one of baseline, avx2, avx512, avx512_bf16, native", requested);
  DLT_CHECK(std::find(compiled.begin(), compiled.end(), *isa) != compiled.end(),
            "DLT_CPU_ISA={}: this build carries CPU kernels for {} only{}", requested, cpu_isa_names(compiled),
            compiled.size() == 1 && compiled.front() == CpuIsa::native
                ? " (it was configured with -DDLT_NATIVE=ON; the default, portable build carries every set)"
                : "");
  DLT_CHECK(runs(*isa), "DLT_CPU_ISA={}: this CPU cannot run {} instructions", requested, requested);
  return *isa;
}

}  // namespace dlt
