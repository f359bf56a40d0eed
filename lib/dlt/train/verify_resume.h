// `dlt verify-resume`: proves that a run can be killed and resumed without
// changing its result. It trains the experiment N steps straight; trains it
// again and kills that process with SIGKILL at a random step after a
// checkpoint (no handler runs: the crash a preempted node or the OOM killer
// deals); resumes it with --resume; and compares every tensor of the two
// final checkpoints bit for bit, and their state.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dlt::train {

struct VerifyResumeOptions {
  std::string config;                  // the experiment file
  std::vector<std::string> overrides;  // --set key=value
  int64_t steps = 0;                   // 0: the config's train.steps
  std::optional<uint64_t> seed;        // picks the step to kill at (random when absent)
  std::filesystem::path work_dir;      // holds the two run folders and their logs
  std::string program;                 // the dlt binary the runs use
};

struct VerifyResumeResult {
  int64_t steps = 0;
  int64_t killed_after = 0;  // the last step the killed run had logged
  int64_t resumed_from = 0;  // the checkpoint the resumed run started from
  int64_t tensors = 0;       // compared
  std::vector<std::string> differences;  // empty: resume is exact
};

VerifyResumeResult verify_resume(const VerifyResumeOptions& options);

// Every tensor of model.safetensors and optimizer.safetensors, and
// state.json, of two checkpoint folders: one line per difference (a tensor's
// name, first differing element and both values; missing or extra names;
// shapes or dtypes). `tensors` counts what was compared.
std::vector<std::string> compare_checkpoints(const std::filesystem::path& a, const std::filesystem::path& b,
                                             int64_t* tensors = nullptr);

}  // namespace dlt::train
