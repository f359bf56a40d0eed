#include "dlt/dist/launch_env.h"

#include <charconv>
#include <cstdlib>

#include "dlt/core/error.h"

namespace dlt::dist {

std::string_view launcher_name(Launcher l) {
  switch (l) {
    case Launcher::single: return "single process";
    case Launcher::mpi: return "mpi";
    case Launcher::slurm: return "slurm";
    case Launcher::torchrun: return "torchrun";
  }
  return "?";
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

// The integer value of `name`, or nothing when it is unset.
std::optional<int> int_var(const EnvLookup& env, std::string_view name) {
  const auto text = env(name);
  if (!text) return std::nullopt;
  int v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  DLT_CHECK(ec == std::errc() && end == text->data() + text->size(),
            "environment variable {}={} is not a whole number", name, *text);
  return v;
}

// The first of `names` that is set.
std::optional<int> first_int(const EnvLookup& env, std::initializer_list<std::string_view> names) {
  for (const std::string_view n : names)
    if (auto v = int_var(env, n)) return v;
  return std::nullopt;
}

std::optional<SlurmJob> slurm_job(const EnvLookup& env) {
  const auto job = env("SLURM_JOB_ID");
  if (!job) return std::nullopt;
  SlurmJob s;
  s.job_id = *job;
  const auto array_job = env("SLURM_ARRAY_JOB_ID"), array_task = env("SLURM_ARRAY_TASK_ID");
  s.requeue_id = array_job && array_task ? *array_job + "_" + *array_task : *job;
  s.restart_count = int_var(env, "SLURM_RESTART_COUNT").value_or(0);
  if (const auto nodes = env("SLURM_JOB_NODELIST")) s.hosts = expand_nodelist(*nodes);
  return s;
}

}  // namespace

LaunchEnv detect_launch_env(const EnvLookup& env) {
  LaunchEnv e;
  e.slurm = slurm_job(env);
  // Tasks of the current srun step (SLURM_NTASKS is the job's, also set in a
  // batch script that never ran srun).
  const int slurm_tasks = env("SLURM_STEP_ID") ? int_var(env, "SLURM_STEP_NUM_TASKS").value_or(0) : 0;

  if (const auto size = first_int(env, {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"});
      size || env("PMIX_RANK")) {
    e.launcher = Launcher::mpi;
    e.world_size = size.value_or(slurm_tasks > 0 ? slurm_tasks : 1);
    e.rank = first_int(env, {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}).value_or(0);
    e.local_rank = first_int(env, {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}).value_or(0);
    e.local_world_size = first_int(env, {"OMPI_COMM_WORLD_LOCAL_SIZE"}).value_or(1);
    e.node_rank = first_int(env, {"OMPI_COMM_WORLD_NODE_RANK", "SLURM_NODEID"}).value_or(0);
  } else if (slurm_tasks > 0) {
    e.launcher = Launcher::slurm;
    e.world_size = slurm_tasks;
    e.rank = int_var(env, "SLURM_PROCID").value_or(0);
    e.local_rank = int_var(env, "SLURM_LOCALID").value_or(0);
    e.node_rank = int_var(env, "SLURM_NODEID").value_or(0);
    DLT_CHECK(e.world_size <= 1,
              "Slurm started {} tasks of this step, but without MPI each would train alone (rank {} of a "
              "world of 1). Launch with `srun --mpi=pmix ...` (needs libpmix-dev; or set MpiDefault=pmix in "
              "slurm.conf), or with mpirun",
              e.world_size, e.rank);
  } else if (const auto world = int_var(env, "WORLD_SIZE")) {
    e.launcher = Launcher::torchrun;
    e.world_size = *world;
    e.rank = int_var(env, "RANK").value_or(0);
    e.local_rank = int_var(env, "LOCAL_RANK").value_or(0);
    e.local_world_size = int_var(env, "LOCAL_WORLD_SIZE").value_or(1);
    e.node_rank = int_var(env, "GROUP_RANK").value_or(0);
    DLT_CHECK(e.world_size <= 1,
              "RANK/WORLD_SIZE name a world of {} ranks, but dlt's ranks talk through MPI: launch with "
              "`mpirun -n {} dlt ...`, `srun --mpi=pmix dlt ...` or `dlt launch -n {} ...`",
              e.world_size, e.world_size, e.world_size);
  }
  DLT_CHECK(e.world_size >= 1 && e.rank >= 0 && e.rank < e.world_size,
            "the launcher says rank {} of a world of {}", e.rank, e.world_size);
  DLT_CHECK(e.local_world_size >= 1 && e.local_rank >= 0, "the launcher says local rank {} of {}", e.local_rank,
            e.local_world_size);
  return e;
}

std::vector<std::string> expand_nodelist(std::string_view list) {
  std::vector<std::string> hosts;
  size_t i = 0;
  while (i < list.size()) {
    // One entry: a prefix, optionally followed by [ranges], up to a top-level comma.
    size_t j = i;
    while (j < list.size() && list[j] != ',' && list[j] != '[') ++j;
    const std::string prefix(list.substr(i, j - i));
    if (j < list.size() && list[j] == '[') {
      const size_t close = list.find(']', j);
      DLT_CHECK(close != std::string_view::npos, "Slurm node list '{}' has an unclosed '['", list);
      std::string_view ranges = list.substr(j + 1, close - j - 1);
      std::string suffix;
      size_t k = close + 1;
      while (k < list.size() && list[k] != ',') suffix += list[k++];
      while (!ranges.empty()) {
        const size_t comma = ranges.find(',');
        const std::string_view r = ranges.substr(0, comma);
        const size_t dash = r.find('-');
        const std::string_view lo = r.substr(0, dash), hi = dash == std::string_view::npos ? lo : r.substr(dash + 1);
        long a = 0, b = 0;
        const bool ok = std::from_chars(lo.data(), lo.data() + lo.size(), a).ec == std::errc() &&
                        std::from_chars(hi.data(), hi.data() + hi.size(), b).ec == std::errc() && a <= b;
        DLT_CHECK(ok, "Slurm node list '{}': '{}' is not a range", list, r);
        for (long n = a; n <= b; ++n) {
          std::string num = std::to_string(n);
          if (num.size() < lo.size()) num.insert(0, lo.size() - num.size(), '0');  // keep zero padding
          hosts.push_back(prefix + num + suffix);
        }
        ranges = comma == std::string_view::npos ? std::string_view{} : ranges.substr(comma + 1);
      }
      i = k;
    } else {
      if (!prefix.empty()) hosts.push_back(prefix);
      i = j;
    }
    if (i < list.size() && list[i] == ',') ++i;
  }
  return hosts;
}

}  // namespace dlt::dist
