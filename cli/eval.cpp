// dlt eval: the validation metrics of a checkpoint.
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/train/experiment.h"

namespace dlt::cli {

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string file, checkpoint;
    std::vector<std::string> overrides;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint on the experiment's validation split.\n"
              "Example: dlt eval configs/fashion_mlp.yaml --checkpoint runs/fashion_mlp");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--checkpoint", a->checkpoint,
                  "A checkpoint folder (step-N), or a run or checkpoints folder (its latest)")
      ->required();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([a] {
    const config::ExperimentSpec spec = config::load_experiment(a->file, a->overrides);
    const auto r = train::evaluate_checkpoint(spec, train::find_checkpoint(a->checkpoint));
    std::string line = fmt::format("val loss {:.4f}", r.loss);
    if (r.accuracy) line += fmt::format(" accuracy {:.2f}%", 100 * *r.accuracy);
    if (r.perplexity) line += fmt::format(" perplexity {:.3f}", *r.perplexity);
    fmt::print("{} ({} samples)\n", line, r.samples);
  });
}

}  // namespace dlt::cli
