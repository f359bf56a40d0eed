#include "dlt/train/verify_resume.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <fstream>
#include <random>

#include "dlt/config/experiment.h"
#include "dlt/core/error.h"
#include "dlt/ops/ops.h"
#include "dlt/train/checkpoint.h"
#include "dlt/train/file_io.h"
#include "dlt/train/safetensors.h"

extern char** environ;

namespace dlt::train {

namespace fs = std::filesystem;

namespace {

// `program args...` with stdout and stderr into `log`; its pid.
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child starts with no signal blocked, whatever this thread blocks
  // (install_stop_handlers() blocks the stop signals; a mask survives exec).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  DLT_CHECK(err == 0, "cannot start {}: {}", program, std::strerror(err));
  return pid;
}

// The last lines of a log, for an error message.
std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > 6) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

void run_to_end(const std::string& what, const std::string& program, const std::vector<std::string>& args,
                const fs::path& log) {
  int status = 0;
  waitpid(spawn(program, args, log), &status, 0);
  DLT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "verify-resume: the {} run failed ({}); its log {} ends:\n{}",
            what, WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : "killed", log.string(),
            tail_of(log));
}

// The highest "train" step in a run's metrics.jsonl so far (0: none).
int64_t logged_step(const fs::path& metrics) {
  std::ifstream in(metrics);
  int64_t step = 0;
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("\"step\":");
    if (at == std::string::npos || line.find("\"split\":\"train\"") == std::string::npos || line.back() != '}')
      continue;  // a line being written
    step = std::max<int64_t>(step, std::atoll(line.c_str() + at + 7));
  }
  return step;
}

void compare_tensor_files(const fs::path& a, const fs::path& b, std::vector<std::string>& out, int64_t& count) {
  const TensorMap ta = load_safetensors(a).tensors, tb = load_safetensors(b).tensors;
  const std::string file = a.filename().string();
  for (const auto& [name, x] : ta) {
    const auto it = tb.find(name);
    if (it == tb.end()) {
      out.push_back(fmt::format("{}: {} is only in the straight run", file, name));
      continue;
    }
    ++count;
    const Tensor& y = it->second;
    if (x.dtype() != y.dtype() || x.shape() != y.shape()) {
      out.push_back(fmt::format("{}: {} is {} {} straight, {} {} resumed", file, name, x.dtype(), shape_str(x.shape()),
                                y.dtype(), shape_str(y.shape())));
      continue;
    }
    const Tensor cx = x.contiguous(), cy = y.contiguous();
    const size_t size = x.element_size();
    const auto* px = static_cast<const unsigned char*>(cx.raw_data());
    const auto* py = static_cast<const unsigned char*>(cy.raw_data());
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (std::memcmp(px + size_t(i) * size, py + size_t(i) * size, size) == 0) continue;
      const Tensor flat_x = cx.reshape({-1}), flat_y = cy.reshape({-1});
      out.push_back(fmt::format("{}: {} first differs at element {} of {}: {} straight, {} resumed", file, name, i,
                                x.numel(), flat_x.slice(0, i, i + 1).to(DType::f64).item<double>(),
                                flat_y.slice(0, i, i + 1).to(DType::f64).item<double>()));
      break;
    }
  }
  for (const auto& [name, y] : tb)
    if (!ta.contains(name)) out.push_back(fmt::format("{}: {} is only in the resumed run", file, name));
}

}  // namespace

std::vector<std::string> compare_checkpoints(const fs::path& a, const fs::path& b, int64_t* tensors) {
  std::vector<std::string> out;
  int64_t count = 0;
  for (const char* file : {"model.safetensors", "optimizer.safetensors"}) compare_tensor_files(a / file, b / file, out, count);
  if (load_train_state(a / "state.json") != load_train_state(b / "state.json"))
    out.push_back("state.json differs (step, data position, generators, metrics or loss scale)");
  if (tensors) *tensors = count;
  return out;
}

VerifyResumeResult verify_resume(const VerifyResumeOptions& o) {
  const config::ExperimentSpec spec = config::load_experiment(o.config, o.overrides);
  VerifyResumeResult r;
  r.steps = o.steps > 0 ? o.steps : spec.train.steps;
  DLT_CHECK(r.steps > 0, "verify-resume: {} trains by epochs; say how many steps to verify with --steps N", o.config);
  DLT_CHECK(r.steps >= 4, "verify-resume: --steps {} leaves no room for a checkpoint and a kill after it (4 or more)",
            r.steps);
  const int64_t every =
      spec.checkpoint.every >= 1 && spec.checkpoint.every <= r.steps / 2 ? spec.checkpoint.every : std::max<int64_t>(1, r.steps / 4);
  // A step after the first checkpoint and before the last step.
  std::mt19937_64 gen(o.seed ? *o.seed : std::random_device{}());
  const int64_t kill_at = std::uniform_int_distribution<int64_t>(every + 1, r.steps - 1)(gen);

  fs::create_directories(o.work_dir);
  auto args_for = [&](const fs::path& run) {
    std::vector<std::string> args{"train", o.config};
    for (const std::string& s : o.overrides) args.insert(args.end(), {"--set", s});
    for (const std::string& s : {fmt::format("train.epochs=null"), fmt::format("train.steps={}", r.steps),
                                 std::string("train.log_every=1"), fmt::format("checkpoint.every={}", every),
                                 fmt::format("run_dir={}", run.string()),
                                 fmt::format("checkpoint.dir={}", (run / "checkpoints").string())})
      args.insert(args.end(), {"--set", s});
    return args;
  };
  const fs::path straight = o.work_dir / "straight", killed = o.work_dir / "killed";
  fs::remove_all(straight);
  fs::remove_all(killed);
  run_to_end("straight", o.program, args_for(straight), o.work_dir / "straight.log");

  // SIGKILL right after step kill_at: the run sends it to itself (`dlt train
  // --kill-after`), since a poll of metrics.jsonl from here lands steps late
  // on a fast run, or after its last checkpoint.
  std::vector<std::string> kill_args = args_for(killed);
  kill_args.insert(kill_args.end(), {"--kill-after", std::to_string(kill_at)});
  int status = 0;
  waitpid(spawn(o.program, kill_args, o.work_dir / "killed.log"), &status, 0);
  DLT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
            "verify-resume: the run to be killed after step {} ended otherwise ({}); its log {} ends:\n{}", kill_at,
            WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : fmt::format("signal {}", WTERMSIG(status)),
            (o.work_dir / "killed.log").string(), tail_of(o.work_dir / "killed.log"));
  r.killed_after = logged_step(killed / "metrics.jsonl");
  const auto latest = CheckpointStore(killed / "checkpoints").latest();
  DLT_CHECK(latest, "verify-resume: the killed run left no checkpoint in {}", (killed / "checkpoints").string());
  r.resumed_from = load_train_state(*latest / "state.json").step;

  std::vector<std::string> resume_args = args_for(killed);
  resume_args.push_back("--resume");
  run_to_end("resumed", o.program, resume_args, o.work_dir / "resumed.log");

  const std::string final_step = CheckpointStore::step_name(r.steps);
  r.differences = compare_checkpoints(straight / "checkpoints" / final_step, killed / "checkpoints" / final_step, &r.tensors);
  return r;
}

}  // namespace dlt::train
