// Runs the dlt binary (DLT_BINARY, or $DLT_BIN where the binaries were carried
// to another machine) or a shell command line through the shell, and captures
// its exit status and output (stdout and stderr together).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dlt::testing {

struct CliResult {
  int status;  // exit status, -1 if killed by a signal
  std::string output;
};

// The dlt program under test.
inline std::string dlt_program() {
  const char* carried = std::getenv("DLT_BIN");
  return carried && *carried ? carried : DLT_BINARY;
}

// `cmd` is shell text: quoting, redirections, pipes and background jobs work;
// the output of everything it starts is captured.
inline CliResult run_shell(const std::string& cmd) {
  FILE* pipe = popen(("(" + cmd + ") 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `dlt ARGS`.
inline CliResult run_dlt(const std::string& args) { return run_shell(dlt_program() + " " + args); }

}  // namespace dlt::testing
