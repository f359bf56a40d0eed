// dlt validate: checks an experiment file and prints the model summary
// (layer, output shape, parameters) without training.
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/train/experiment.h"

namespace dlt::cli {

void add_validate_command(CLI::App& app) {
  struct Args {
    std::string file;
    std::vector<std::string> overrides;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "validate", "Check an experiment file (config, data, model shapes) and print the model summary.\n"
                  "Example: dlt validate configs/fashion_cnn.yaml");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([a] {
    const config::ExperimentSpec spec = config::load_experiment(a->file, a->overrides);
    const train::ExperimentData data = train::open_data(spec);
    const train::BuiltModel model = train::build_model(spec, data.input_shape);
    fmt::print("{}: ok\n{}", a->file, nn::summarize(model.summary, data.input_shape, *model.module));
    fmt::print("train: {} samples; {} steps\n", data.train->size(), train::total_steps(spec, data));
  });
}

}  // namespace dlt::cli
