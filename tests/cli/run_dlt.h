// Runs the dlt binary (DLT_BINARY, or $DLT_BIN where the binaries were carried
// to another machine) through the shell and captures its exit
// status and output (stdout and stderr together).
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

// `args` is shell text: quoting, redirections and pipes work.
inline CliResult run_dlt(const std::string& args) {
  const char* carried = std::getenv("DLT_BIN");
  const std::string cmd = std::string(carried && *carried ? carried : DLT_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace dlt::testing
