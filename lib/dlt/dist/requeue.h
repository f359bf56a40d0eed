// Putting a preempted Slurm batch job back in the queue after its
// checkpoint (`scontrol requeue`, as Lightning's auto-requeue does), so the
// same sbatch line continues the run when the job starts again.
#pragma once

#include <string>

#include "dlt/dist/launch_env.h"

namespace dlt::dist {

enum class RequeueResult {
  requeued,       // scontrol accepted it: the job restarts later with SLURM_RESTART_COUNT > 0
  not_requeueable,  // not a batch job, or submitted without --requeue: nothing to do
  no_scontrol,    // scontrol is not on PATH (e.g. inside a container)
  failed,         // scontrol refused; its message is in `message`
};

struct RequeueOutcome {
  RequeueResult result;
  std::string message;  // one line for the log
};

// Asks Slurm about the job (`scontrol show job -o`) and requeues it when it
// is a requeueable batch job. Never throws: the checkpoint is written
// already, and a failure here only changes the exit status.
RequeueOutcome requeue_job(const SlurmJob& job);

// The exit status after a checkpoint that could not be requeued for lack of
// scontrol (EX_TEMPFAIL): a batch script can requeue the job itself on it.
constexpr int kExitRequeueUnavailable = 75;

}  // namespace dlt::dist
