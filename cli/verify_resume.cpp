// dlt verify-resume: trains an experiment straight, then killed with SIGKILL
// at a random step after a checkpoint and resumed, and compares the final
// checkpoints bit for bit (lib/dlt/train/verify_resume). Exit status: 0
// resume is exact, 1 it is not, 2 bad input or a run that failed.
#include <fmt/core.h>
#include <unistd.h>

#include <filesystem>

#include "cli/commands.h"
#include "dlt/train/verify_resume.h"

namespace dlt::cli {

void add_verify_resume_command(CLI::App& app) {
  struct Args {
    std::string file, work_dir;
    std::vector<std::string> overrides;
    int64_t steps = 0;
    std::optional<uint64_t> seed;
    bool keep = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "verify-resume",
      "Train FILE straight, then again killed with SIGKILL at a random step after a checkpoint and resumed,\n"
      "and compare every tensor of the two final checkpoints bit for bit; exits 1 if any differs.\n"
      "Example: dlt verify-resume configs/fashion_mlp.yaml --steps 200");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)");
  cmd->add_option("--steps", a->steps, "Steps of each run (default: the config's train.steps)")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Seed of the random kill step (default: random; printed)");
  cmd->add_option("--work-dir", a->work_dir, "Folder for the runs (default: a temporary one, removed after)");
  cmd->add_flag("--keep", a->keep, "Keep the temporary folder");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    train::VerifyResumeOptions o;
    o.config = a->file;
    o.overrides = a->overrides;
    o.steps = a->steps;
    o.seed = a->seed;
    o.program = dlt_executable();
    const bool temporary = a->work_dir.empty();
    o.work_dir = temporary ? fs::temp_directory_path() / fmt::format("dlt-verify-resume-{}", ::getpid())
                           : fs::path(a->work_dir);
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
      }
    } cleanup{temporary && !a->keep ? o.work_dir : fs::path()};
    fmt::print(stderr, "verify-resume: training {} straight and killed, in {}\n", a->file, o.work_dir.string());
    const train::VerifyResumeResult r = train::verify_resume(o);
    fmt::print("killed with SIGKILL after step {} of {}; resumed from the checkpoint of step {}\n", r.killed_after,
               r.steps, r.resumed_from);
    if (r.differences.empty()) {
      fmt::print("resume is exact: {} tensors and state.json identical at step {}\n", r.tensors, r.steps);
      command_exit_status = 0;
      return;
    }
    fmt::print("resume is NOT exact: {} difference{} at step {}\n", r.differences.size(),
               r.differences.size() == 1 ? "" : "s", r.steps);
    for (const std::string& d : r.differences) fmt::print("  {}\n", d);
    command_exit_status = 1;
  });
}

}  // namespace dlt::cli
