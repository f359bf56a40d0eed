// dlt: the command line. Each subcommand lives in its own file and only
// parses arguments and prints; the work happens in lib/.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "dlt/core/error.h"
#include "dlt/dist/world.h"

namespace {

// A failed command ends every rank of a distributed run (never a hang), each
// naming itself; a single process just returns the status.
int fail(int status, const char* what) {
  std::fprintf(stderr, "error: %s%s\n", dlt::dist::rank_prefix().c_str(), what);
  if (dlt::dist::distributed()) dlt::dist::abort_world(status);
  dlt::dist::finalize_world();
  return status;
}

// An unknown first word gets a clear line naming the known commands, rather
// than CLI11's generic "a subcommand is required".
bool is_known_command(const CLI::App& app, const std::string& word) {
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->check_name(word)) return true;
  return false;
}

std::string known_commands(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

}  // namespace

std::string dlt::cli::dlt_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  DLT_CHECK(!ec, "cannot find dlt's own executable (/proc/self/exe): {}", ec.message());
  return p.string();
}

int main(int argc, char** argv) {
  CLI::App app{"dlt: a deep-learning training toolkit driven by YAML experiment files.\n"
               "Example: dlt train configs/fashion_mlp.yaml --set optim.lr=0.002"};
  app.set_version_flag("--version", std::string("dlt ") + DLT_VERSION);
  app.require_subcommand(1);
  dlt::cli::add_info_command(app);
  dlt::cli::add_data_command(app);
  dlt::cli::add_train_command(app);
  dlt::cli::add_validate_command(app);
  dlt::cli::add_layers_command(app);
  dlt::cli::add_eval_command(app);
  dlt::cli::add_predict_command(app);
  dlt::cli::add_recipe_command(app);
  dlt::cli::add_launch_command(app);
  dlt::cli::add_report_command(app);
  dlt::cli::add_verify_resume_command(app);
  dlt::cli::add_generate_command(app);
  dlt::cli::add_onnx_command(app);
  dlt::cli::add_export_command(app);
  if (argc <= 1) {
    std::cerr << app.help() << std::flush;
    return 2;
  }
  const std::string first = argv[1];
  if (!first.empty() && first[0] != '-' && !is_known_command(app, first)) {
    std::fprintf(stderr, "error: unknown command '%s' (known commands: %s; see dlt --help)\n",
                 first.c_str(), known_commands(app).c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const dlt::Error& e) {
    return fail(2, e.what());
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
  dlt::dist::finalize_world();
  return dlt::cli::command_exit_status;
}
