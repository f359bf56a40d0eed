// One function per subcommand; each adds itself to the app with its callback.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace dlt::cli {

void add_info_command(CLI::App& app);
void add_data_command(CLI::App& app);
// `dlt data decode` and `dlt data encode` (cli/data_tokens.cpp), under `dlt data`.
void add_token_commands(CLI::App& data);
void add_train_command(CLI::App& app);
void add_validate_command(CLI::App& app);
void add_layers_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_recipe_command(CLI::App& app);
void add_launch_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_verify_resume_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_onnx_command(CLI::App& app);
void add_export_command(CLI::App& app);

// The dlt binary this process runs (/proc/self/exe), for commands that start
// more dlt processes (launch, verify-resume, recipes' kill check).
std::string dlt_executable();

// The status main returns when a command succeeds: `dlt train` sets 128 +
// the signal that stopped it after writing a checkpoint (see train/signals.h).
inline int command_exit_status = 0;

}  // namespace dlt::cli
