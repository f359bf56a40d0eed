// One function per subcommand; each adds itself to the app with its callback.
#pragma once

#include <CLI/CLI.hpp>

namespace dlt::cli {

void add_info_command(CLI::App& app);
void add_data_command(CLI::App& app);

}  // namespace dlt::cli
