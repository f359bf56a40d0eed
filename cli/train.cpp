// dlt train: trains (or resumes) an experiment file. The work happens in
// lib/dlt/train; this file parses arguments. Exit statuses: signals.h.
#include <sstream>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/core/allocator.h"
#include "dlt/core/device_runtime.h"
#include "dlt/dist/world.h"
#include "dlt/train/signals.h"
#include "dlt/train/experiment.h"

namespace dlt::cli {

void add_train_command(CLI::App& app) {
  struct Args {
    std::string file, run_dir, dump_dir;
    int64_t dump_batches = 0;
    std::vector<std::string> overrides;
    bool resume = false;
    std::string profile, profile_steps = "10:20";
    int64_t kill_after = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "train", "Train the model of an experiment file; checkpoints, metrics.jsonl and the resolved\n"
               "config go to the run folder (runs/<name>). SIGINT, SIGTERM and SIGUSR1 write a\n"
               "checkpoint and exit with 130, 143, 138; --resume continues. Under mpirun, srun --mpi=pmix\n"
               "or `dlt launch -n N` every rank trains its slice of each global batch.\n"
               "Example: dlt train configs/fashion_mlp.yaml --set optim.lr=0.002");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--resume", a->resume, "Continue from the run folder's latest checkpoint");
  cmd->add_option("--run-dir", a->run_dir, "Run folder (default: runs/<name>)");
  cmd->add_option("--dump-batches", a->dump_batches,
                  "Record the first N steps for a replay in another framework (scripts/parity):\n"
                  "initial and final weights, the batches as fed, the losses")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dump", a->dump_dir, "Folder of the --dump-batches record (default: <run folder>/dump)");
  cmd->add_option("--profile", a->profile,
                  "Write a Chrome trace (Perfetto, chrome://tracing) of some steps: each step, layer forward,\n"
                  "backward node and op with its shapes, data waits, optimizer, collectives, checkpoints");
  cmd->add_option("--profile-steps", a->profile_steps, "Steps A:B of the --profile trace (default 10:20)");
  // Not in --help: dlt verify-resume's crash of a run at a chosen step.
  cmd->add_option("--kill-after", a->kill_after, "SIGKILL this process after step N")
      ->check(CLI::PositiveNumber)
      ->group("");
  cmd->callback([a] {
    // Handlers first: Slurm's warning signal can come while the ranks start.
    train::install_stop_handlers();
    dist::init_world(dist::detect_launch_env());
    train::set_stop_messages(dist::world().is_main());
    std::optional<train::ProfileRequest> profile;
    if (!a->profile.empty()) {
      int64_t first = 0, last = 0;
      char colon = 0;
      std::istringstream in(a->profile_steps);
      const bool ok = (in >> first >> colon >> last) && colon == ':' && in.peek() == EOF && first >= 1 && last >= first;
      DLT_CHECK(ok, "--profile-steps {}: expected A:B with 1 <= A <= B, e.g. 10:20", a->profile_steps);
      profile = train::ProfileRequest{a->profile, first, last};
    }
    std::vector<std::string> overrides = a->overrides;
    if (!a->run_dir.empty()) overrides.push_back("run_dir=" + a->run_dir);
    const config::ExperimentSpec spec = config::load_experiment(a->file, overrides);
    std::optional<train::DumpRequest> dump;
    if (a->dump_batches > 0)
      dump = train::DumpRequest{.dir = a->dump_dir.empty() ? std::filesystem::path(spec.run_dir) / "dump"
                                                           : std::filesystem::path(a->dump_dir),
                                .steps = a->dump_batches};
    else if (!a->dump_dir.empty())
      throw Error("--dump needs --dump-batches N");
    command_exit_status = train::train_experiment(spec, a->resume, dump, 0, profile, a->kill_after);
    // A run on a GPU ends with its memory high-water mark (scripts/bench/gpu.sh reads it).
    if (device_count(DeviceType::cuda) > 0 && dist::world().is_main()) {
      const Allocator::Stats s = allocator_for(DeviceType::cuda).stats();
      if (s.peak_allocated > 0)
        fmt::print("device memory: peak {:.1f} MiB allocated, {:.1f} MiB reserved\n",
                   double(s.peak_allocated) / (1 << 20), double(s.reserved) / (1 << 20));
    }
  });
}

}  // namespace dlt::cli
