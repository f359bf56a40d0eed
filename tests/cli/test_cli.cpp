// The dlt binary end to end: version, info, usage errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(DLT_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Cli, Version) {
  const Result r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("dlt 0."), std::string::npos) << r.output;
}

TEST(Cli, InfoShowsBuildAndCpu) {
  const Result r = run("info");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* field : {"build:", "cpu:", "threads:", "oneDNN:", "ops:", "gpus:"})
    EXPECT_NE(r.output.find(field), std::string::npos) << field << " missing in\n" << r.output;
}

TEST(Cli, NoArgumentsPrintsUsageAndExits2) {
  const Result r = run("");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
}

TEST(Cli, UnknownSubcommandExits2) {
  const Result r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("frobnicate"), std::string::npos) << r.output;
}

}  // namespace
