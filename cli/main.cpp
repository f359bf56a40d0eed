// dlt: the command line. Each subcommand lives in its own file and only
// parses arguments and prints; the work happens in lib/.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "dlt/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"dlt: a deep-learning training toolkit driven by YAML experiment files.\n"
               "Example: dlt info"};
  app.set_version_flag("--version", std::string("dlt ") + DLT_VERSION);
  app.require_subcommand(1);
  dlt::cli::add_info_command(app);
  dlt::cli::add_data_command(app);
  if (argc <= 1) {
    std::cerr << app.help() << std::flush;
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const dlt::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
