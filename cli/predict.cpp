// dlt predict: model outputs for the samples of an HDF5 dataset, written to
// an HDF5 file.
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/train/experiment.h"

namespace dlt::cli {

void add_predict_command(CLI::App& app) {
  struct Args {
    std::string file, checkpoint, input, key, out;
    std::vector<std::string> overrides;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "predict", "Run a checkpoint's model over an HDF5 dataset; writes \"outputs\" (N, ...) and, for\n"
                 "classifiers, \"predictions\" (N) to --out.\n"
                 "Example: dlt predict configs/fashion_mlp.yaml --checkpoint runs/fashion_mlp "
                 "--input data/fashion-mnist.h5 --key test/images --out preds.h5");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--checkpoint", a->checkpoint,
                  "A checkpoint folder (step-N), or a run or checkpoints folder (its latest)")
      ->required();
  cmd->add_option("--input", a->input, "HDF5 file with the inputs")->required();
  cmd->add_option("--key", a->key, "Dataset of the inputs in --input (N, sample shape...)")->required();
  cmd->add_option("--out", a->out, "HDF5 file to write")->required();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([a] {
    const config::ExperimentSpec spec = config::load_experiment(a->file, a->overrides);
    const int64_t n = train::predict_to_file(spec, train::find_checkpoint(a->checkpoint), a->input, a->key, a->out);
    fmt::print("wrote {} predictions to {}\n", n, a->out);
  });
}

}  // namespace dlt::cli
