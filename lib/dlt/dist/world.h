// The process's place in a data-parallel job, process-wide as MPI itself
// is: a command that trains calls init_world() once (after installing its
// signal handlers, since Slurm's warning signal can come during start-up);
// everything else asks world(). Without init_world(), or launched alone,
// world() is a local group of one rank.
#pragma once

#include <string>

#include "dlt/dist/launch_env.h"
#include "dlt/dist/process_group.h"

namespace dlt::dist {

struct WorldOptions {
  double timeout_s = 600;  // no collective waits longer (train.distributed.timeout_s)
};

// Starts MPI when the environment says the process was launched by it (a
// dlt::Error when this build has no MPI). Idempotent.
ProcessGroup& init_world(const LaunchEnv& env, const WorldOptions& options = {});
ProcessGroup& world();
const LaunchEnv& launch_env();  // what init_world() was given (single process before)
bool distributed();             // world().world_size() > 1

// "rank 1: " in a world of more than one rank, else "": the prefix of every
// message a rank prints about itself.
std::string rank_prefix();

// Ends the job: in a world of more than one rank every rank stops now
// (MPI_Abort), else the process exits. For errors after init_world().
[[noreturn]] void abort_world(int exit_code);
// MPI_Finalize at a normal end (idempotent; nothing for a local world).
void finalize_world();

// True when this build can talk to other ranks (-DDLT_MPI=ON).
bool mpi_available();

// CPU threads for this rank when the config leaves them open: the cores
// this process may run on, shared by the ranks of its node (a launcher that
// bound the rank to cores has already done the sharing), at least one.
int default_threads_per_rank();

// "2 ranks (mpi, 2 on this node of 1)" and the like, for the first log line.
std::string describe_world();

}  // namespace dlt::dist
