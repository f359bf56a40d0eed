// Data-parallel training end to end: several ranks of the dlt binary under
// mpirun (and `dlt launch`) on tiny synthetic data, against one rank on the
// same global batches; ZeRO-1 against DDP; resume across world sizes; and
// the faults that must end every rank with a message, never a hang.
// Skipped (visibly) where mpirun is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <regex>


#include "dlt/train/checkpoint.h"
#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "dlt/data/h5_writer.h"
#include "dlt/ops/ops.h"
#include "dlt/train/safetensors.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::dlt_program;
using dlt::testing::run_dlt;
using dlt::testing::run_shell;
using dlt::testing::train_losses;
using ::testing::HasSubstr;

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

#define SKIP_WITHOUT_MPI()                                                      \
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not found (Debian package openmpi-bin)"

// `dlt ARGS` on n ranks through `dlt launch`; the timeout turns a hang into
// a failure (exit 124) instead of a stuck suite.
CliResult run_ranks(int n, const std::string& args, int timeout_s = 120) {
  return run_shell(fmt::format("timeout -k 5 {} {} launch -n {} {}", timeout_s, dlt_program(), n, args));
}

// mpirun's own line, for what `dlt launch` cannot express (one config per rank).
std::string mpirun() { return "mpirun --allow-run-as-root --oversubscribe --bind-to none"; }

// An MLP on the synthetic classification set (no dropout: ranks draw the
// same dropout stream for different samples, so runs would differ).
std::string write_mlp(const TempDir& tmp, const std::string& name, int64_t hidden = 16,
                      const std::string& train = "steps: 50", const std::string& data_extra = "") {
  const std::string path = tmp.path(name + ".yaml");
  data::testing::write_file(path, fmt::format(R"(name: {0}
seed: 5
data:
  file: {1}
  train: {{x: train/x, y: train/y}}
  val: {{x: val/x, y: val/y}}
  batch_size: 16
  workers: 2
  {4}
model:
  - {{type: Linear, out: {2}}}
  - {{type: ReLU}}
  - {{type: Linear, out: 3}}
optim: {{name: adamw, lr: 0.01, weight_decay: 0.01}}
schedule: {{name: cosine, warmup_steps: 5}}
train: {{{3}, log_every: 1, eval_every: 25, threads: 1}}
checkpoint: {{every: 25, keep: 10}}
)",
                                              name, tmp.path("data.h5"), hidden, train, data_extra));
  return path;
}

std::map<int64_t, double> losses_by_step(const fs::path& run) {
  const auto logged = train_losses(run);
  return {logged.begin(), logged.end()};
}

// Largest |a - b| / max(|a|, tiny) over steps both runs logged.
double max_rel_loss_diff(const fs::path& a, const fs::path& b) {
  const auto la = losses_by_step(a), lb = losses_by_step(b);
  EXPECT_EQ(la.size(), lb.size());
  double worst = 0;
  for (const auto& [step, loss] : la) {
    const auto it = lb.find(step);
    if (it == lb.end()) {
      ADD_FAILURE() << "step " << step << " missing in " << b;
      continue;
    }
    worst = std::max(worst, std::abs(loss - it->second) / std::max(std::abs(loss), 1e-12));
  }
  return worst;
}

// Largest |a - b| / max|a| per tensor, over the tensors of two safetensors files.
double max_rel_weight_diff(const fs::path& a, const fs::path& b) {
  const TensorMap ta = load_safetensors(a).tensors, tb = load_safetensors(b).tensors;
  EXPECT_EQ(ta.size(), tb.size());
  double worst = 0;
  for (const auto& [name, t] : ta) {
    const Tensor d = (t - tb.at(name)).abs();
    const double scale = std::max(amax(t.abs()).item<double>(), 1e-12);
    worst = std::max(worst, amax(d).item<double>() / scale);
  }
  return worst;
}

fs::path model_at(const fs::path& run, int64_t step) {
  return run / "checkpoints" / ("step-" + std::to_string(step)) / "model.safetensors";
}

// Trains `cfg` on one rank and on `ranks` (with the same extra arguments)
// and expects the same run: per-step losses within 1e-6 relative, weights at
// `final_step` within 1e-5. Returns the multi-rank run's result.
CliResult expect_ranks_match_one_rank(const TempDir& tmp, const std::string& cfg, int ranks, int64_t final_step,
                                      const std::string& extra = "") {
  const fs::path one = tmp.path("one"), many = tmp.path(fmt::format("ranks-{}", ranks));
  const CliResult r1 = run_dlt(fmt::format("train {} --run-dir {} {}", cfg, one.string(), extra));
  EXPECT_EQ(r1.status, 0) << r1.output;
  const CliResult rn = run_ranks(ranks, fmt::format("train {} --run-dir {} {}", cfg, many.string(), extra));
  EXPECT_EQ(rn.status, 0) << rn.output;
  if (r1.status == 0 && rn.status == 0) {
    EXPECT_LE(max_rel_loss_diff(one, many), 1e-6);
    EXPECT_LE(max_rel_weight_diff(model_at(one, final_step), model_at(many, final_step)), 1e-5);
  }
  return rn;
}

class DistTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_MPI();
    data::testing::write_classification(tmp.path("data.h5"), 1001, 64, 12, 3);
  }
  TempDir tmp;
};

TEST_F(DistTrain, TwoRanksEqualOneRankOnTheSameGlobalBatch) {
  const CliResult r2 = expect_ranks_match_one_rank(tmp, write_mlp(tmp, "mlp"), 2, 50);
  EXPECT_THAT(r2.output, HasSubstr("distributed: 2 ranks (mpi"));
  EXPECT_THAT(r2.output, HasSubstr("global batch 16 = 2 x 8"));
  // Rank 0 alone prints.
  EXPECT_EQ(r2.output.find("final:"), r2.output.rfind("final:")) << r2.output;
  EXPECT_EQ(r2.output.find("parameters, 50 steps"), r2.output.rfind("parameters, 50 steps")) << r2.output;
}

// A small GPT on a token stream with some structure (a noisy repeating
// pattern over 40 tokens). SGD: Adam would turn gradients that are rounding
// noise (an attention key bias has none in exact arithmetic) into full-size
// steps, so its weights match only as far as the losses do.
TEST_F(DistTrain, TwoRanksEqualOneRankOnAGpt) {
  {
    data::H5Writer w(tmp.path("tokens.h5"));
    std::vector<int32_t> t(20000);
    for (size_t k = 0; k < t.size(); ++k) t[k] = int32_t((k * 7 + k / 13) % 40);
    w.write("train/tokens", DType::i32, {int64_t(t.size())}, t.data());
    w.write("val/tokens", DType::i32, {2000}, t.data());
    w.commit();
  }
  const std::string cfg = tmp.path("gpt.yaml");
  data::testing::write_file(cfg, fmt::format(R"(name: gpt
seed: 0
data: {{file: {}, kind: tokens, train: {{x: train/tokens}}, val: {{x: val/tokens}}, block_size: 32,
       random_offsets: true, batch_size: 16, workers: 1}}
model: {{type: GPT, vocab_size: 40, block_size: 32, embed_dim: 32, heads: 2, layers: 2, dropout: 0.0}}
optim: {{name: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.0001}}
schedule: {{name: cosine, warmup_steps: 10}}
train: {{steps: 50, log_every: 1, grad_clip: 1.0, threads: 1}}
)",
                                             tmp.path("tokens.h5")));
  expect_ranks_match_one_rank(tmp, cfg, 2, 50);
}

TEST_F(DistTrain, ThreeRanksEqualOneRankWithUnevenSlices) {
  // 16 does not divide by 3: refused at its line. 15 does, and 1001 % 15 leaves a short last batch.
  const std::string bad = write_mlp(tmp, "bad");
  const CliResult refused = run_ranks(3, fmt::format("train {} --run-dir {}", bad, tmp.path("bad")));
  EXPECT_NE(refused.status, 0);
  EXPECT_THAT(refused.output, HasSubstr("bad.yaml:"));
  EXPECT_THAT(refused.output, HasSubstr("data.batch_size 16 is the global batch, shared by the 3 ranks"));
  expect_ranks_match_one_rank(tmp, write_mlp(tmp, "mlp3", 16, "epochs: 1"), 3, 67, "--set data.batch_size=15");
}

TEST_F(DistTrain, GradientAccumulationCommunicatesOncePerStepPerBucket) {
  // Small buckets, so the model's gradients take several.
  const CliResult r = expect_ranks_match_one_rank(tmp, write_mlp(tmp, "acc", 64), 2, 50,
                                                  "--set train.grad_accum=4 --set train.distributed.bucket_mb=0.0005");
  ASSERT_EQ(r.status, 0) << r.output;
  std::smatch m;
  const std::string out = r.output;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((\d+) gradient collectives in (\d+) steps \(([\d.]+) per step, (\d+) buckets\))")))
      << out;
  EXPECT_EQ(m[2].str(), "50");
  EXPECT_GT(std::stoi(m[4].str()), 2);
  EXPECT_EQ(std::stoi(m[1].str()), 50 * std::stoi(m[4].str()));
}

TEST_F(DistTrain, ZeroOneEqualsDdpBitForBitWithAnOddParameterCount) {
  // 12*15+15 + 15*3+3 = 243 parameters: neither the model nor its buckets divide by 2.
  const std::string cfg = write_mlp(tmp, "zero", 15);
  const fs::path ddp = tmp.path("ddp"), zero = tmp.path("zero");
  const std::string set = "--set train.distributed.bucket_mb=0.0005";
  ASSERT_EQ(run_ranks(2, fmt::format("train {} --run-dir {} {}", cfg, ddp.string(), set)).status, 0);
  const CliResult r = run_ranks(
      2, fmt::format("train {} --run-dir {} {} --set train.distributed.shard_optimizer=true", cfg, zero.string(), set));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ZeRO-1 on"));
  EXPECT_EQ(train_losses(ddp), train_losses(zero));
  for (const int64_t step : {25, 50})
    for (const char* file : {"model.safetensors", "optimizer.safetensors"}) {
      const fs::path sub = fs::path("checkpoints") / ("step-" + std::to_string(step)) / file;
      EXPECT_EQ(read_file(ddp / sub), read_file(zero / sub)) << sub;
    }
}

// bf16 autocast with dynamic loss scaling on 2 ranks, where a few training
// rows are large (1e4) so steps overflow at a loss scale of 1e36 and are
// skipped. ZeRO-1 unscales each rank's slices, so a rank may find an inf
// the other does not: every rank must still skip the same steps, which
// makes ZeRO-1 equal DDP bit for bit. One rank takes the same steps (its
// weight gradients are rounded to bf16 over 16 rows, not 8: close, not equal).
TEST_F(DistTrain, MixedPrecisionWithLossScalingSkipsTheSameStepsOnEveryRank) {
  data::testing::write_classification_with_large_rows(tmp.path("data.h5"), 1001, 64, 12, 3, 10, 1e4f);
  const std::string cfg = write_mlp(tmp, "amp", 16, "steps: 50, precision: bf16, loss_scale: {init: 1e36, growth_interval: 5}");
  const fs::path one = tmp.path("one"), ddp = tmp.path("ddp"), zero = tmp.path("zero");
  const CliResult r1 = run_dlt(fmt::format("train {} --run-dir {}", cfg, one.string()));
  ASSERT_EQ(r1.status, 0) << r1.output;
  ASSERT_EQ(run_ranks(2, fmt::format("train {} --run-dir {}", cfg, ddp.string())).status, 0);
  const CliResult rz =
      run_ranks(2, fmt::format("train {} --run-dir {} --set train.distributed.shard_optimizer=true", cfg, zero.string()));
  ASSERT_EQ(rz.status, 0) << rz.output;
  // DDP's ranks take their bf16 weight copies from the optimizer's pass;
  // ZeRO-1's all-gather writes the weights, so its ranks cast them again.
  EXPECT_THAT(rz.output, HasSubstr("bfloat16 copies cast in each forward pass (ZeRO-1 all-gathers the weights)"));
  auto skipped = [](const fs::path& run) {
    std::vector<double> s;
    for (const Json& j : read_metrics(run / "metrics.jsonl"))
      if (j.at("split").as_string("split") == "train") s.push_back(j.at("skipped_steps").as_double("skipped_steps"));
    return s;
  };
  const std::vector<double> s1 = skipped(one);
  EXPECT_GT(std::accumulate(s1.begin(), s1.end(), 0.0), 0) << "no step overflowed: the test shows nothing";
  EXPECT_EQ(skipped(ddp), s1);
  EXPECT_EQ(skipped(zero), s1);
  EXPECT_EQ(train_losses(ddp), train_losses(zero));
  for (const char* file : {"model.safetensors", "optimizer.safetensors"}) {
    const fs::path sub = fs::path("checkpoints") / "step-50" / file;
    EXPECT_EQ(read_file(ddp / sub), read_file(zero / sub)) << sub;
  }
  EXPECT_LE(max_rel_loss_diff(one, ddp), 2e-2);
}

// train.distributed.reduce_dtype: bf16 halves the bytes of each gradient
// collective; the sums are rounded to bf16, so the run stays close to the f32
// reduction (not equal), and ZeRO-1's reduce-scatter rounds each element's
// sum exactly as the all-reduce does: bit for bit the same run.
TEST_F(DistTrain, GradientsSummedInBf16StayCloseToF32) {
  const std::string cfg = write_mlp(tmp, "wire");
  const fs::path f32 = tmp.path("f32"), ddp = tmp.path("ddp"), zero = tmp.path("zero");
  ASSERT_EQ(run_ranks(2, fmt::format("train {} --run-dir {}", cfg, f32.string())).status, 0);
  const std::string bf16 = "--set train.distributed.reduce_dtype=bf16 --set train.distributed.bucket_mb=0.0005";
  const CliResult r = run_ranks(2, fmt::format("train {} --run-dir {} {}", cfg, ddp.string(), bf16));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("summed in bf16"));
  const CliResult rz = run_ranks(
      2, fmt::format("train {} --run-dir {} {} --set train.distributed.shard_optimizer=true", cfg, zero.string(), bf16));
  ASSERT_EQ(rz.status, 0) << rz.output;
  const double diff = max_rel_loss_diff(f32, ddp);
  EXPECT_GT(diff, 0) << "bf16 sums changed nothing: were they f32?";
  EXPECT_LE(diff, 1e-2);
  EXPECT_EQ(train_losses(ddp), train_losses(zero));
  EXPECT_EQ(read_file(ddp / "checkpoints/step-50/model.safetensors"), read_file(zero / "checkpoints/step-50/model.safetensors"));
  const CliResult bad = run_dlt(fmt::format("validate {} --set train.distributed.reduce_dtype=f8", cfg));
  EXPECT_NE(bad.status, 0);
  EXPECT_THAT(bad.output, HasSubstr("train.distributed.reduce_dtype: expected f32 or bf16"));
}

// 2 ranks stopped by SIGTERM reaching one rank, then resumed: the weights
// of an uninterrupted 2-rank run, bit for bit.
TEST_F(DistTrain, ASignalOnOneRankStopsAllAndResumeIsExact) {
  const std::string cfg = write_mlp(tmp, "sig", 16, "steps: 10000");
  const fs::path ref = tmp.path("ref"), run = tmp.path("run");
  const std::string set = "--set checkpoint.every=0";
  ASSERT_EQ(run_ranks(2, fmt::format("train {} --run-dir {} {}", cfg, ref.string(), set)).status, 0);
  // The signal goes to one rank (a child of mpirun) once training is under way.
  const CliResult stopped = run_shell(fmt::format(
      "{3} launch -n 2 train {0} --run-dir {1} {2} & pid=$!; "
      "until [ -s {1}/metrics.jsonl ] || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
      "kill -TERM $(pgrep -f '^{3} train' | tail -1); wait $pid; exit $?",
      cfg, run.string(), set, dlt_program()));
  EXPECT_NE(stopped.status, 0) << stopped.output;
  EXPECT_THAT(stopped.output, HasSubstr("stopped by SIGTERM after step"));
  const CliResult resumed = run_ranks(2, fmt::format("train {} --run-dir {} {} --resume", cfg, run.string(), set));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resuming from"));
  EXPECT_EQ(train_losses(run), train_losses(ref));
  EXPECT_EQ(read_file(model_at(run, 10000)), read_file(model_at(ref, 10000)));
}

// A checkpoint of N ranks continues on M: the loader's position is global
// and the optimizer state whole (also under ZeRO-1).
TEST_F(DistTrain, CheckpointsResumeOnAnotherNumberOfRanks) {
  const std::string cfg = write_mlp(tmp, "reshard");
  const fs::path two = tmp.path("two"), one = tmp.path("one");
  ASSERT_EQ(run_ranks(2, fmt::format("train {} --run-dir {}", cfg, two.string())).status, 0);
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, one.string())).status, 0);
  struct Case {
    fs::path from;
    int ranks;
    const char* extra;
  };
  for (const Case& c : {Case{two, 1, ""}, Case{one, 2, ""}, Case{two, 1, " --set train.distributed.shard_optimizer=true"},
                        Case{one, 2, " --set train.distributed.shard_optimizer=true"}}) {
    const fs::path run = tmp.path(fmt::format("from-{}-on-{}{}", c.from.filename().string(), c.ranks, c.extra[0] ? "-zero" : ""));
    fs::create_directories(run / "checkpoints");
    fs::copy(c.from / "checkpoints" / "step-25", run / "checkpoints" / "step-25", fs::copy_options::recursive);
    const std::string args = fmt::format("train {} --run-dir {} --resume{}", cfg, run.string(), c.extra);
    const CliResult r = c.ranks == 1 ? run_dlt(args) : run_ranks(c.ranks, args);
    ASSERT_EQ(r.status, 0) << r.output;
    // The steps after 25 continue the run the checkpoint came from.
    const auto got = losses_by_step(run), want = losses_by_step(c.from);
    ASSERT_EQ(got.size(), 25u);
    for (const auto& [step, loss] : got) EXPECT_NEAR(loss, want.at(step), 1e-5 * std::abs(want.at(step))) << step;
    EXPECT_LE(max_rel_weight_diff(model_at(c.from, 50), model_at(run, 50)), 1e-5) << run;
  }
}

TEST_F(DistTrain, UnevenDataNeverHangs) {
  // 1001 samples, global batch 10: the last batch has one sample, which only rank 1 gets.
  for (const char* drop_last : {"false", "true"}) {
    const std::string cfg = write_mlp(tmp, fmt::format("uneven-{}", drop_last), 16, "epochs: 2",
                                      fmt::format("drop_last: {}", drop_last));
    const fs::path run = tmp.path(fmt::format("run-{}", drop_last));
    const CliResult r = run_ranks(2, fmt::format("train {} --run-dir {} --set data.batch_size=10", cfg, run.string()), 60);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(std::string(drop_last) == "true" ? "200 steps" : "202 steps"));
  }
}

TEST_F(DistTrain, RanksWithDifferentConfigsFailFast) {
  const std::string a = write_mlp(tmp, "same"), b = write_mlp(tmp, "other", 17);
  const CliResult mixed = run_shell(fmt::format("timeout -k 5 60 {0} -n 1 {1} train {2} --run-dir {4} : -n 1 {1} "
                                                "train {3} --run-dir {4}",
                                                mpirun(), dlt_program(), a, b, tmp.path("mixed")));
  EXPECT_NE(mixed.status, 0);
  EXPECT_NE(mixed.status, 124) << "stopped by the timeout: a hang";
  EXPECT_THAT(mixed.output, HasSubstr("rank 1 was started with a different configuration than rank 0"));
}

// Runs `dlt launch -n 2 ARGS`, and once training is under way sends `signal`
// to one rank; returns the result and how long the job took to end after it.
std::pair<CliResult, int> hit_one_rank(const std::string& args, const fs::path& run, const char* signal) {
  const CliResult r = run_shell(fmt::format(
      "timeout -k 5 90 {0} launch -n 2 {1} & pid=$!; "
      "until [ -s {2}/metrics.jsonl ] || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
      "kill -{3} $(pgrep -f '^{0} train' | tail -1); start=$(date +%s); "
      "wait $pid; status=$?; echo \"ended after $(( $(date +%s) - start )) s\"; exit $status",
      dlt_program(), args, run.string(), signal));
  std::smatch m;
  const bool found = std::regex_search(r.output, m, std::regex(R"(ended after (\d+) s)"));
  EXPECT_TRUE(found) << r.output;
  return {r, found ? std::stoi(m[1].str()) : -1};
}

TEST_F(DistTrain, AKilledRankEndsTheOthers) {
  const std::string cfg = write_mlp(tmp, "kill", 16, "steps: 100000");
  const fs::path run = tmp.path("run");
  const auto [r, seconds] = hit_one_rank(fmt::format("train {} --run-dir {}", cfg, run.string()), run, "KILL");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "stopped by the timeout: " << r.output;
  EXPECT_LE(seconds, 60) << r.output;
}

TEST_F(DistTrain, AStalledRankEndsTheJobAtTheCollectiveTimeout) {
  const std::string cfg = write_mlp(tmp, "stall", 16, "steps: 100000");
  const fs::path run = tmp.path("run");
  const auto [r, seconds] = hit_one_rank(
      fmt::format("train {} --run-dir {} --set train.distributed.timeout_s=3", cfg, run.string()), run, "STOP");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "stopped by the timeout: " << r.output;
  EXPECT_LE(seconds, 30) << r.output;
  // The step's all-reduce, or the barrier after a checkpoint when the stop
  // lands while one is written: either way the collective is named.
  EXPECT_THAT(r.output, ::testing::ContainsRegex("error: rank 0: (all_reduce|barrier) #[0-9]+ "));
  EXPECT_THAT(r.output, HasSubstr("did not complete within 3 s"));
  EXPECT_THAT(r.output, HasSubstr("train.distributed.timeout_s"));
}

TEST_F(DistTrain, InfoNamesTheRanks) {
  const CliResult r = run_ranks(2, "info");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ranks:    2 ranks (mpi via mpi, 2 on this node; this is rank 0"));
  EXPECT_THAT(r.output, HasSubstr("this is rank 1"));
}

// Preemption under Slurm, one process, with a stand-in `scontrol` on PATH:
// what dlt asks Slurm and what it does with the answers.
class SlurmRequeue : public ::testing::Test {
 protected:
  void SetUp() override {
    data::testing::write_classification(tmp.path("data.h5"), 1001, 64, 12, 3);
    fs::create_directories(tmp.path("bin"));
    // Answers `show job` like a requeueable batch job (or per $FAKE_JOB),
    // and logs every call.
    data::testing::write_file(tmp.path("bin/scontrol"), fmt::format(R"(#!/bin/sh
echo "$@" >> {0}
case "$1" in
  show) echo "JobId=$4 JobName=t ${{FAKE_JOB:-BatchFlag=1 Requeue=1}} Restarts=0" ;;
  requeue) exit 0 ;;
esac
)",
                                                                    tmp.path("calls")));
    fs::permissions(tmp.path("bin/scontrol"), fs::perms::owner_all);
  }

  // `dlt train` under the given environment, stopped by SIGUSR1 once it trains.
  CliResult preempted(const std::string& env, const fs::path& run, const std::string& cfg) {
    return run_shell(fmt::format("{0} {1} train {2} --run-dir {3} & pid=$!; "
                                 "until [ -s {3}/metrics.jsonl ] || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
                                 "kill -USR1 $pid; wait $pid",
                                 env, dlt_program(), cfg, run.string()));
  }
  std::string calls() { return fs::exists(tmp.path("calls")) ? read_file(tmp.path("calls")) : ""; }

  TempDir tmp;
};

TEST_F(SlurmRequeue, ARequeueableBatchJobRequeuesItselfAfterTheCheckpoint) {
  const std::string cfg = write_mlp(tmp, "job", 16, "steps: 100000");
  const fs::path run = tmp.path("run");
  const CliResult r = preempted(fmt::format("PATH={}:$PATH SLURM_JOB_ID=77", tmp.path("bin")), run, cfg);
  EXPECT_EQ(r.status, 138) << r.output;
  EXPECT_THAT(r.output, HasSubstr("requeued Slurm job 77"));
  EXPECT_EQ(calls(), "show job -o 77\nrequeue 77\n");
  EXPECT_TRUE(fs::exists(run / "checkpoints" / "latest"));
}

TEST_F(SlurmRequeue, ArrayTasksRequeueThemselvesOnly) {
  const std::string cfg = write_mlp(tmp, "array", 16, "steps: 100000");
  const CliResult r = preempted(
      fmt::format("PATH={}:$PATH SLURM_JOB_ID=57 SLURM_ARRAY_JOB_ID=50 SLURM_ARRAY_TASK_ID=7", tmp.path("bin")),
      tmp.path("run"), cfg);
  EXPECT_EQ(r.status, 138) << r.output;
  EXPECT_EQ(calls(), "show job -o 57\nrequeue 50_7\n");
}

TEST_F(SlurmRequeue, AJobWithoutRequeueOrScontrolIsNotRequeued) {
  const std::string cfg = write_mlp(tmp, "plain", 16, "steps: 100000");
  const CliResult no = preempted(fmt::format("PATH={}:$PATH SLURM_JOB_ID=78 FAKE_JOB='BatchFlag=1 Requeue=0'",
                                             tmp.path("bin")),
                                 tmp.path("a"), cfg);
  EXPECT_EQ(no.status, 138) << no.output;
  EXPECT_THAT(no.output, HasSubstr("job 78 was submitted without --requeue; not requeueing"));
  EXPECT_EQ(calls(), "show job -o 78\n");
  // No scontrol at all (a container): the checkpoint is written, exit 75 says so.
  const CliResult none = preempted("PATH=/nonexistent SLURM_JOB_ID=79", tmp.path("b"), cfg);
  EXPECT_EQ(none.status, 75) << none.output;
  EXPECT_THAT(none.output, HasSubstr("scontrol is not on PATH"));
  EXPECT_TRUE(fs::exists(fs::path(tmp.path("b")) / "checkpoints" / "latest"));
  // train.requeue: never asks nothing.
  const CliResult never = preempted(fmt::format("PATH={}:$PATH SLURM_JOB_ID=80", tmp.path("bin")), tmp.path("c"),
                                    cfg + " --set train.requeue=never");
  EXPECT_EQ(never.status, 138) << never.output;
  EXPECT_EQ(calls(), "show job -o 78\n");
}

// The requeued job runs the same command again: with SLURM_RESTART_COUNT > 0
// it continues the run (no --resume), and ends where an uninterrupted run does.
TEST_F(SlurmRequeue, ARestartedJobResumesByItselfAndEndsIdentically) {
  const std::string cfg = write_mlp(tmp, "restart", 16, "steps: 10000");
  const fs::path ref = tmp.path("ref"), run = tmp.path("run");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {} --set checkpoint.every=0", cfg, ref.string())).status, 0);
  const std::string set = " --set checkpoint.every=0";
  const CliResult first = preempted(fmt::format("PATH={}:$PATH SLURM_JOB_ID=81", tmp.path("bin")), run, cfg + set);
  ASSERT_EQ(first.status, 138) << first.output;
  const CliResult again = run_shell(fmt::format("PATH={}:$PATH SLURM_JOB_ID=81 SLURM_RESTART_COUNT=1 {} train {} "
                                                "--run-dir {}{}",
                                                tmp.path("bin"), dlt_program(), cfg, run.string(), set));
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("Slurm job 81 restarted (restart 1): resuming the run"));
  EXPECT_EQ(read_file(model_at(run, 10000)), read_file(model_at(ref, 10000)));
}

// Slurm's time limit sends SIGTERM twice (then SIGKILL): one checkpoint,
// exit 143, and the run resumes from it.
TEST_F(SlurmRequeue, ASecondSigtermChangesNothing) {
  const std::string cfg = write_mlp(tmp, "twice", 16, "steps: 10000");
  const fs::path ref = tmp.path("ref"), run = tmp.path("run");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {} --set checkpoint.every=0", cfg, ref.string())).status, 0);
  const CliResult r = run_shell(fmt::format("{0} train {1} --run-dir {2} --set checkpoint.every=0 & pid=$!; "
                                            "until [ -s {2}/metrics.jsonl ] || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
                                            "kill -TERM $pid; kill -TERM $pid; wait $pid",
                                            dlt_program(), cfg, run.string()));
  EXPECT_EQ(r.status, 143) << r.output;
  EXPECT_EQ(CheckpointStore(run / "checkpoints").steps().size(), 1u);
  const CliResult resumed = run_dlt(fmt::format("train {} --run-dir {} --set checkpoint.every=0 --resume", cfg,
                                                run.string()));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(read_file(model_at(run, 10000)), read_file(model_at(ref, 10000)));
}

}  // namespace
}  // namespace dlt::train
