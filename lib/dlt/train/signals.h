// Stopping a run cleanly. SIGINT (Ctrl-C), SIGTERM (Slurm's scancel, a
// job's time limit) and SIGUSR1 (Slurm's --signal=USR1@T warning before
// preemption) only set a flag: the trainer finishes the current step,
// writes a checkpoint and exits with the status below. A second SIGINT
// while that happens exits at once with 130, without a checkpoint.
//
// Exit statuses of `dlt train`, as the shell reports a death by signal
// (128 + the signal number), so scripts treat them alike:
//   0    finished              130  stopped by SIGINT, checkpoint written
//   2    user error (config,   143  stopped by SIGTERM, checkpoint written
//        data, checkpoint)     138  stopped by SIGUSR1, checkpoint written
//   1    runtime failure       (`dlt train ... --resume` continues any of them)
#pragma once

#include <string_view>

namespace dlt::train {

enum class StopRequest { none, interrupt, terminate, user1 };

// Installs the handlers (idempotent) and clears any earlier request. The
// calling thread blocks the stop signals, and so does every thread it starts
// afterwards; a thread of signals.cpp's own takes them (signals.cpp says
// why). So a command installs them before it starts threads.
void install_stop_handlers();
// Installs them unless they are in place already, keeping a request that
// arrived meanwhile: a command installs them before MPI starts (Slurm's
// warning can come during start-up), and training must not forget it.
void ensure_stop_handlers();
// Whether the handler says so on stderr when a stop is requested (rank 0 of
// a distributed run does; the other ranks stay quiet).
void set_stop_messages(bool on);
// Puts the default actions back (after training); the signals stay blocked
// on the computing threads and the listener thread takes them, so each ends
// the process as its default action says.
void restore_default_handlers();

// What arrived first since install_stop_handlers(); safe to poll every step.
StopRequest stop_requested();
void clear_stop_request();

int exit_status(StopRequest r);           // 0, 130, 143, 138
std::string_view signal_name(StopRequest r);  // "SIGINT", ...

}  // namespace dlt::train
