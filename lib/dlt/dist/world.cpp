#include "dlt/dist/world.h"

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dlt/core/error.h"
#ifdef DLT_WITH_MPI
#include "dlt/dist/mpi_group.h"
#endif

namespace dlt::dist {

namespace {

struct World {
  LaunchEnv env;
  std::unique_ptr<ProcessGroup> group = make_local_group();
  bool started = false;
};

World& the_world() {
  static World w;
  return w;
}

}  // namespace

bool mpi_available() {
#ifdef DLT_WITH_MPI
  return true;
#else
  return false;
#endif
}

ProcessGroup& init_world(const LaunchEnv& env, const WorldOptions& options) {
  World& w = the_world();
  if (w.started) return *w.group;
  w.env = env;
  if (env.launcher == Launcher::mpi) {
#ifdef DLT_WITH_MPI
    w.group = make_mpi_group();
    // The launcher's numbers and MPI's must agree: a size-1 MPI world under a
    // launcher of N tasks is the singleton trap (each rank would train alone).
    DLT_CHECK(w.group->world_size() == env.world_size,
              "the launcher started {} ranks, but MPI sees a world of {}: under Slurm launch with "
              "`srun --mpi=pmix ...`, else with mpirun",
              env.world_size, w.group->world_size());
    w.env.rank = w.group->rank();
    w.env.local_rank = w.group->local_rank();
    w.env.local_world_size = w.group->local_world_size();
#else
    DLT_CHECK(env.world_size <= 1,
              "launched as rank {} of {} by MPI, but this dlt was built without MPI: rebuild with "
              "-DDLT_MPI=ON (scripts/setup.sh does)",
              env.rank, env.world_size);
#endif
  }
  w.group->set_timeout(options.timeout_s);
  w.started = true;
  return *w.group;
}

ProcessGroup& world() { return *the_world().group; }
const LaunchEnv& launch_env() { return the_world().env; }
bool distributed() { return world().world_size() > 1; }

std::string rank_prefix() { return distributed() ? fmt::format("rank {}: ", world().rank()) : std::string(); }

void abort_world(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (distributed()) world().abort(exit_code);
  finalize_world();
  std::exit(exit_code);
}

int default_threads_per_rank() {
  const int hardware = std::max(1, int(std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  const int allowed = ::sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : hardware;
  if (allowed < hardware) return std::max(1, allowed);  // bound by the launcher
  return std::max(1, allowed / std::max(1, world().local_world_size()));
}

std::string describe_world() {
  const ProcessGroup& g = world();
  const LaunchEnv& e = launch_env();
  if (g.world_size() == 1) return "1 rank";
  std::string hosts;
  if (e.slurm && !e.slurm->hosts.empty())
    hosts = fmt::format(", nodes {}", fmt::join(e.slurm->hosts, ","));
  return fmt::format("{} ranks ({} via {}, {} on this node{}; this is rank {}, local rank {})", g.world_size(),
                     g.backend(), launcher_name(e.launcher), g.local_world_size(), hosts, g.rank(), g.local_rank());
}

void finalize_world() {
#ifdef DLT_WITH_MPI
  finalize_mpi();
#endif
}

}  // namespace dlt::dist
