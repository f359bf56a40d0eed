// dlt launch: starts N ranks of a dlt command on this machine through
// mpirun, which forwards signals to every rank and ends them all when one
// fails. The ranks find each other through MPI, as under srun --mpi=pmix.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/commands.h"
#include "dlt/core/error.h"

namespace dlt::cli {

namespace {

bool mpirun_on_path() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && ::access((std::filesystem::path(dir) / "mpirun").c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

void add_launch_command(CLI::App& app) {
  struct Args {
    int ranks = 2;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("launch",
                                 "Start N ranks of a dlt command on this machine (through mpirun), e.g. a\n"
                                 "data-parallel training run. Each rank gets the machine's cores / N threads.\n"
                                 "Example: dlt launch -n 2 train configs/kjv_gpt.yaml --set train.steps=100");
  cmd->add_option("-n,--ranks", a->ranks, "Number of ranks")->check(CLI::Range(1, 4096));
  cmd->prefix_command();  // everything after the options is the command to run
  cmd->callback([a, cmd] {
    const std::vector<std::string> rest = cmd->remaining();
    DLT_CHECK(!rest.empty(), "dlt launch: name the command to run, e.g. `dlt launch -n 2 train FILE`");
    DLT_CHECK(mpirun_on_path(), "dlt launch needs mpirun (Debian package openmpi-bin; scripts/setup.sh installs it)");
    std::vector<std::string> argv = {"mpirun", "-n", std::to_string(a->ranks),
                                     // dlt divides the cores among the ranks itself
                                     "--bind-to", "none"};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    argv.push_back("--oversubscribe");  // more ranks than cores is slow, not an error
    argv.push_back(dlt_executable());
    argv.insert(argv.end(), rest.begin(), rest.end());
    std::vector<char*> c_argv;
    for (std::string& s : argv) c_argv.push_back(s.data());
    c_argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    ::execvp("mpirun", c_argv.data());
    throw Error(fmt::format("dlt launch: cannot start mpirun: {}", std::strerror(errno)));
  });
}

}  // namespace dlt::cli
