// Where this process stands in a job, read from the launcher's environment
// variables before any communication starts:
//   mpi       mpirun / srun --mpi=pmix (OMPI_COMM_WORLD_*, PMIX_RANK)
//   slurm     srun without an MPI plug-in (SLURM_PROCID, SLURM_STEP_NUM_TASKS, ...)
//   torchrun  RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE
//   single    none of these: one process
// The singleton trap (Slurm started N tasks, but MPI would see one each) is
// caught here, before MPI_Init, with the command that fixes it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlt::dist {

enum class Launcher { single, mpi, slurm, torchrun };
std::string_view launcher_name(Launcher l);

struct SlurmJob {
  std::string job_id;        // SLURM_JOB_ID
  std::string requeue_id;    // what `scontrol requeue` takes (array-aware: ARRAYID_TASKID)
  int restart_count = 0;     // SLURM_RESTART_COUNT: > 0 after a requeue
  std::vector<std::string> hosts;  // SLURM_JOB_NODELIST, expanded
};

struct LaunchEnv {
  Launcher launcher = Launcher::single;
  int rank = 0, world_size = 1;             // what the launcher says (MPI may refine them)
  int local_rank = 0, local_world_size = 1;
  int node_rank = 0;
  std::optional<SlurmJob> slurm;            // inside a Slurm job (batch script or step)

  bool distributed() const { return world_size > 1; }
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();  // getenv

// A dlt::Error for the singleton trap, for numbers that are not numbers, and
// for ranks outside the world.
LaunchEnv detect_launch_env(const EnvLookup& env = process_env());

// Slurm host lists: "node[01-03,07],gpu-a1" -> node01 node02 node03 node07 gpu-a1.
std::vector<std::string> expand_nodelist(std::string_view list);

}  // namespace dlt::dist
