#include "dlt/dist/requeue.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/core.h>

namespace dlt::dist {

namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// Runs a shell command; its standard output and error, and its exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {"cannot start: " + command, -1};
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), int(buf.size()), pipe)) out += buf.data();
  const int status = ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// Job ids are digits and underscores: nothing a shell would interpret.
bool safe_id(const std::string& id) {
  return !id.empty() && id.find_first_not_of("0123456789_") == std::string::npos;
}

}  // namespace

RequeueOutcome requeue_job(const SlurmJob& job) {
  if (!safe_id(job.requeue_id))
    return {RequeueResult::failed, fmt::format("Slurm job id '{}' is not a job id; not requeueing", job.requeue_id)};
  if (!on_path("scontrol"))
    return {RequeueResult::no_scontrol,
            fmt::format("scontrol is not on PATH, so job {} cannot requeue itself; the checkpoint is written "
                        "(exit status {}: requeue the job from the batch script, or submit a follow-up job)",
                        job.requeue_id, kExitRequeueUnavailable)};
  const auto [info, status] = run("scontrol show job -o " + job.job_id);
  if (status != 0) return {RequeueResult::failed, fmt::format("scontrol show job {}: {}", job.job_id, info)};
  if (info.find("BatchFlag=1") == std::string::npos)
    return {RequeueResult::not_requeueable,
            fmt::format("job {} is not a batch job; not requeueing (continue with --resume)", job.job_id)};
  if (info.find("Requeue=1") == std::string::npos)
    return {RequeueResult::not_requeueable,
            fmt::format("job {} was submitted without --requeue; not requeueing (continue with --resume)",
                        job.job_id)};
  const auto [out, rc] = run("scontrol requeue " + job.requeue_id);
  if (rc != 0) return {RequeueResult::failed, fmt::format("scontrol requeue {} failed: {}", job.requeue_id, out)};
  return {RequeueResult::requeued,
          fmt::format("requeued Slurm job {}: it continues from this checkpoint when it starts again",
                      job.requeue_id)};
}

}  // namespace dlt::dist
