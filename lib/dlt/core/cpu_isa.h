// The instruction sets of dlt's vectorised CPU kernels, and which one runs.
// A portable build (the default) compiles each vectorised kernel file once
// for baseline x86-64 and once for each of AVX2 (x86-64-v3), AVX-512
// (x86-64-v4) and AVX-512 with bf16 (cmake/cpu_dispatch.cmake); at the first
// kernel call the best set this CPU runs is chosen, or the one DLT_CPU_ISA
// names. A -DDLT_NATIVE=ON build compiles its kernels once, for the machine
// that builds it: its one set is `native`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dlt {

// Ordered: each x86 set runs everything the ones before it run.
enum class CpuIsa : uint8_t { baseline, avx2, avx512, avx512_bf16, native };
inline constexpr int kNumCpuIsas = 5;

const char* cpu_isa_name(CpuIsa isa);
std::string cpu_isa_names(std::span<const CpuIsa> isas);  // "baseline, avx2, ..."
std::optional<CpuIsa> parse_cpu_isa(std::string_view name);

// Whether this CPU and its OS run code built for `isa` (native: always).
bool cpu_runs(CpuIsa isa);

// The set to run, from DLT_CPU_ISA's value (empty when unset), the sets this
// build carries and what the CPU runs. An unknown name, a set this build
// lacks or one the CPU cannot run is an Error naming DLT_CPU_ISA.
CpuIsa choose_cpu_isa(std::string_view requested, std::span<const CpuIsa> compiled, bool (*runs)(CpuIsa));

}  // namespace dlt

// The set a CPU kernel file is compiled for: cmake/cpu_dispatch.cmake defines
// it for the extra copies; every other file is baseline (or native).
#ifndef DLT_KERNEL_ISA
#ifdef DLT_NATIVE
#define DLT_KERNEL_ISA native
#else
#define DLT_KERNEL_ISA baseline
#endif
#endif
