// dlt info: build options, CPU features, threads, library versions, devices.
#include <dnnl.hpp>
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/core/allocator.h"
#include "dlt/core/device_runtime.h"
#include "dlt/core/math_mode.h"
#include "dlt/core/parallel.h"
#include "dlt/dist/world.h"
#include "dlt/ops/dispatch.h"

namespace dlt::cli {
namespace {

std::string cpu_features() {
  std::string f;
  auto add = [&](bool has, const char* name) {
    if (has) f += f.empty() ? name : std::string(" ") + name;
  };
  __builtin_cpu_init();
  add(__builtin_cpu_supports("sse4.2"), "sse4.2");
  add(__builtin_cpu_supports("avx"), "avx");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512bf16"), "avx512_bf16");
  add(__builtin_cpu_supports("amx-bf16"), "amx_bf16");
  return f.empty() ? "none detected" : f;
}

// Which CPU kernel set runs, and why (lib/dlt/core/cpu_isa.h).
std::string cpu_kernels(const std::vector<CpuIsa>& compiled) {
  CpuIsa isa;
  try {
    isa = ops::cpu_kernel_isa();
  } catch (const Error& e) {
    return fmt::format("cannot choose: {}", e.what());
  }
  if (isa == CpuIsa::native) return "native (a -DDLT_NATIVE=ON build: for the CPU that built it)";
  const std::string carried = cpu_isa_names(compiled);
  const CpuIsa best = choose_cpu_isa("", compiled, cpu_runs);
  if (isa != best)
    return fmt::format("{} (forced by DLT_CPU_ISA; this CPU's best of {}: {})", cpu_isa_name(isa), carried,
                       cpu_isa_name(best));
  return fmt::format("{} (this CPU's best of {}; DLT_CPU_ISA forces one)", cpu_isa_name(isa), carried);
}

bool on(bool b) { return b; }

std::string gib(size_t bytes) { return fmt::format("{:.1f} GiB", double(bytes) / double(1 << 30)); }

// One line per GPU, or why there is none; never an error (info must run anywhere).
void print_gpus(DeviceType type) {
  const std::string_view kind = type == DeviceType::hip ? "HIP" : "CUDA";
  DeviceRuntime* runtime = device_runtime(type);
  if (!runtime) {
    fmt::print("gpus:     none: this build has no {} backend (configure with -DDLT_{}=ON)\n", kind, kind);
    return;
  }
  const int n = runtime->count();
  if (n == 0) {
    fmt::print("gpus:     none: no usable {} device: {}\n", kind, runtime->why_unavailable());
    return;
  }
  fmt::print("gpus:     {} ({} driver {}, runtime {})\n", n, kind, runtime->driver_version(),
             runtime->runtime_version());
  for (int i = 0; i < n; ++i) {
    const DeviceProperties p = runtime->properties(i);
    fmt::print("  {}: {}, {} memory, compute capability {}.{}, {} multiprocessors\n",
               Device{type, i}, p.name, gib(p.total_memory), p.major, p.minor, p.multiprocessors);
  }
  const Allocator::Stats s = allocator_for(type).stats();
  fmt::print("  allocator: {} allocated, {} reserved, {} peak\n", gib(s.allocated), gib(s.reserved),
             gib(s.peak_allocated));
}

// The ranks this process belongs to (started by mpirun, srun or dlt launch).
void print_ranks() {
  try {
    dist::init_world(dist::detect_launch_env());
  } catch (const Error& e) {
    fmt::print("ranks:    cannot start: {}\n", e.what());
    return;
  }
  if (!dist::distributed()) {
    fmt::print("ranks:    1 ({}; `dlt launch -n N ...`, mpirun or srun --mpi=pmix start several{})\n",
               dist::launcher_name(dist::launch_env().launcher), dist::mpi_available() ? "" : ", in a -DDLT_MPI=ON build");
    return;
  }
  fmt::print("ranks:    {}; {} threads per rank by default\n", dist::describe_world(), dist::default_threads_per_rank());
}

void run_info() {
#ifdef DLT_NATIVE
  const bool native = true;
#else
  const bool native = false;
#endif
#ifdef DLT_WITH_CUDA
  const bool cuda = true;
#else
  const bool cuda = false;
#endif
#ifdef DLT_WITH_HIP
  const bool hip = true;
#else
  const bool hip = false;
#endif
#ifdef DLT_WITH_MPI
  const bool mpi = true;
#else
  const bool mpi = false;
#endif
  const dnnl_version_t* v = dnnl_version();
  const std::vector<CpuIsa> cpu_sets = ops::compiled_cpu_isas();
  int kernels = 0, needed = 0;
  for (int i = 0; i < ops::kNumOps; ++i) {
    const auto id = static_cast<ops::OpId>(i);
    if (!ops::needs_kernel(id)) continue;
    ++needed;
    if (ops::find_cpu_kernel(id, cpu_sets.front())) ++kernels;  // the lowest set: every other falls back to it
  }
  fmt::print("dlt {}\n", DLT_VERSION);
  fmt::print("build:    {} compiler {}, native={} cuda={} hip={} mpi={}\n",
#ifdef NDEBUG
             "release",
#else
             "debug",
#endif
             __VERSION__, on(native) ? "on" : "off", cuda ? "on" : "off", hip ? "on" : "off",
             mpi ? "on" : "off");
  fmt::print("cpu:      {}\n", cpu_features());
  fmt::print("kernels:  {}\n", cpu_kernels(cpu_sets));
  fmt::print("threads:  {} (OMP_NUM_THREADS to change)\n", num_threads());
  fmt::print("bf16:     {}\n", cpu_gemm_path(DType::bf16));
  fmt::print("oneDNN:   {}.{}.{} (cpu runtime: {})\n", v->major, v->minor, v->patch,
             v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  fmt::print("ops:      {} in the op list, {} with cpu kernels of {} needing one\n", ops::kNumOps,
             kernels, needed);
  print_gpus(hip && !cuda ? DeviceType::hip : DeviceType::cuda);
  print_ranks();
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show build options, CPU features, threads and devices.\n"
                                         "Example: dlt info");
  cmd->callback(run_info);
}

}  // namespace dlt::cli
