// `dlt train`, `validate`, `eval` and `predict` end to end through the
// binary on a tiny synthetic data set: exact resume, signals, non-finite
// losses, and bad input (one "error: ..." line, exit 2, checkpoints intact).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "dlt/data/h5.h"
#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using dlt::testing::train_losses;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void expect_one_line_error(const CliResult& r, std::initializer_list<std::string> pieces) {
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, StartsWith("error: "));
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const std::string& p : pieces) EXPECT_THAT(r.output, HasSubstr(p));
}


// An experiment over that data: dropout (so the model's generator matters),
// shuffling with 2 workers, AdamW with a cosine schedule, clipping.
std::string write_config(const TempDir& tmp, const std::string& name, const std::string& train = "steps: 24",
                         const std::string& extra = "") {
  const std::string path = tmp.path(name + ".yaml");
  data::testing::write_file(path, fmt::format(R"(name: {0}
seed: 3
data:
  file: {1}
  train: {{x: train/x, y: train/y}}
  val: {{x: val/x, y: val/y}}
  batch_size: 8
  workers: 2
model:
  - {{type: Linear, out: 16}}
  - {{type: ReLU}}
  - {{type: Dropout, p: 0.2}}
  - {{type: Linear, out: 3}}
optim: {{name: adamw, lr: 0.01}}
schedule: {{name: cosine, warmup_steps: 3}}
train: {{{2}, log_every: 1, eval_every: 6, grad_clip: 5.0}}
checkpoint: {{every: 5, keep: 20}}
{3})",
                                              name, tmp.path("data.h5"), train, extra));
  return path;
}

TEST(CliTrain, TrainsAndWritesTheRunFolder) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny");
  const fs::path run = tmp.path("run");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, run.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("final: step 24 val loss"));
  EXPECT_TRUE(fs::exists(run / "config.resolved.yaml"));
  const auto losses = train_losses(run);
  ASSERT_EQ(losses.size(), 24u);
  EXPECT_LT(losses.back().second, losses.front().second);
  const auto records = read_metrics(run / "metrics.jsonl");
  EXPECT_EQ(std::count_if(records.begin(), records.end(),
                          [](const Json& j) { return j.at("split").as_string("s") == "val"; }),
            4);  // steps 6, 12, 18, 24 (epoch ends fall on 12 and 24)
  EXPECT_EQ(read_file(run / "checkpoints" / "latest"), "step-24\n");
  for (int step : {5, 10, 15, 20, 24}) EXPECT_TRUE(fs::exists(run / "checkpoints" / fmt::format("step-{}", step)));

  const CliResult v = run_dlt("validate " + cfg);
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_THAT(v.output, HasSubstr("Linear"));
  EXPECT_THAT(v.output, HasSubstr("total parameters: 163"));  // 6*16+16 + 16*3+3

  const CliResult e = run_dlt(fmt::format("eval {} --checkpoint {}", cfg, run.string()));
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_THAT(e.output, HasSubstr("accuracy"));
  EXPECT_THAT(e.output, HasSubstr("(32 samples)"));

  const CliResult p = run_dlt(fmt::format("predict {} --checkpoint {} --input {} --key val/x --out {}", cfg,
                                          (run / "checkpoints" / "step-24").string(), tmp.path("data.h5"),
                                          tmp.path("pred.h5")));
  EXPECT_EQ(p.status, 0) << p.output;
  const CliResult inspect = run_dlt("data inspect " + tmp.path("pred.h5"));
  EXPECT_THAT(inspect.output, HasSubstr("outputs"));
  EXPECT_THAT(inspect.output, HasSubstr("[32, 3]"));
  EXPECT_THAT(inspect.output, HasSubstr("predictions"));

  // The checkpoint loads into the equivalent torch model, whose outputs match predict's.
  const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/cli/torch_check_checkpoint.py";
  const int rc = std::system(fmt::format("/usr/bin/python3 {} {} {} val/x {}", script,
                                         (run / "checkpoints/step-24/model.safetensors").string(), tmp.path("data.h5"),
                                         tmp.path("pred.h5")).c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/python3 lacks torch or h5py; install python3-torch python3-h5py";
  }
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "torch disagrees with dlt predict";
}

// Resuming from a checkpoint reproduces the uninterrupted run exactly: every
// later step's loss and the final weights, bit for bit.
// --dump-batches records what the run saw: its losses are metrics.jsonl's
// (log_every 1), its final weights the step-5 checkpoint's, and the batches
// are the loader's (batch_size 8, 6 features). scripts/parity replays them.
TEST(CliTrain, DumpBatchesRecordsTheFirstSteps) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny");
  const fs::path run = tmp.path("run"), dump = tmp.path("dump");
  const CliResult r =
      run_dlt(fmt::format("train {} --run-dir {} --dump-batches 5 --dump {}", cfg, run.string(), dump.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(dump / "final.safetensors") == read_file(run / "checkpoints/step-5/model.safetensors"));
  EXPECT_TRUE(fs::exists(dump / "initial.safetensors"));
  EXPECT_TRUE(read_file(dump / "initial.safetensors") != read_file(dump / "final.safetensors"));

  const data::h5::FilePtr f = data::h5::open_file((dump / "batches.h5").string());
  std::vector<double> losses(5);
  const data::h5::Id id = data::h5::open_dataset(*f, "losses");
  data::h5::read_rows(*f, id.get(), "losses", {5}, DType::f64, 0, 5, losses.data());
  const auto logged = train_losses(run);
  for (size_t i = 0; i < losses.size(); ++i) EXPECT_DOUBLE_EQ(losses[i], logged[i].second) << "step " << i + 1;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(data::h5::describe(*f, data::h5::open_dataset(*f, fmt::format("x/{}", i)).get(), "x").shape,
              (Shape{8, 6}));
    EXPECT_EQ(data::h5::describe(*f, data::h5::open_dataset(*f, fmt::format("y/{}", i)).get(), "y").shape,
              (Shape{8}));
  }
  EXPECT_FALSE(data::h5::has_dataset(*f, "x/5"));

  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --dump-batches 25", cfg, tmp.path("run2"))),
                        {"--dump-batches 25", "24 steps"});
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --resume --dump-batches 2", cfg, run.string())),
                        {"--resume"});
}

TEST(CliTrain, ResumeFromACheckpointIsBitwiseIdentical) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny");
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, a.string())).status, 0);
  // b: a's run as if it had died after step 10.
  fs::create_directories(b / "checkpoints");
  fs::copy(a / "checkpoints" / "step-10", b / "checkpoints" / "step-10", fs::copy_options::recursive);
  std::string metrics;
  {
    std::ifstream in(a / "metrics.jsonl");
    for (std::string line; std::getline(in, line);)
      if (parse_json(line).at("step").as_int("step") <= 13) metrics += line + "\n";  // 11-13 must go
  }
  data::testing::write_file((b / "metrics.jsonl").string(), metrics);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, b.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("resuming from"));
  EXPECT_EQ(train_losses(b), train_losses(a));
  EXPECT_EQ(read_file(b / "checkpoints/step-24/model.safetensors"), read_file(a / "checkpoints/step-24/model.safetensors"));
  EXPECT_EQ(read_file(b / "checkpoints/step-24/optimizer.safetensors"),
            read_file(a / "checkpoints/step-24/optimizer.safetensors"));
}

// A signal stops the run after the current step with a checkpoint and exit
// 128 + signal; --resume then ends with the uninterrupted run's weights.
TEST(CliTrain, ASignalCheckpointsAndResumeFinishesIdentically) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "long", "steps: 20000", "");
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {} --set checkpoint.every=0", cfg, a.string())).status, 0);
  // The signal goes out once the first step is logged (the handlers are in place by then).
  const CliResult stopped = run_dlt(fmt::format("train {0} --run-dir {1} --set checkpoint.every=0 2>&1 & pid=$!; "
                                                "until [ -s {1}/metrics.jsonl ] || ! kill -0 $pid 2>/dev/null; do sleep 0.01; done; "
                                                "kill -USR1 $pid; wait $pid; exit $?",
                                                cfg, b.string()));
  ASSERT_EQ(stopped.status, 138) << stopped.output;
  EXPECT_THAT(stopped.output, HasSubstr("stopped by SIGUSR1 after step"));
  const CliResult resumed = run_dlt(fmt::format("train {} --run-dir {} --set checkpoint.every=0 --resume", cfg, b.string()));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(train_losses(b), train_losses(a));
  EXPECT_EQ(read_file(b / "checkpoints/step-20000/model.safetensors"),
            read_file(a / "checkpoints/step-20000/model.safetensors"));
}

TEST(CliTrain, ANonFiniteLossStopsNamingTheStepOrIsSkipped) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "nan");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --set optim.lr=1e38 --set train.grad_clip=0", cfg,
                                          tmp.path("run1")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: step "));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("the (loss|gradient norm) is (nan|inf|-inf)"));
  const CliResult skip = run_dlt(fmt::format("train {} --run-dir {} --set optim.lr=1e38 --set train.grad_clip=0 "
                                             "--set train.on_nonfinite=skip",
                                             cfg, tmp.path("run2")));
  EXPECT_EQ(skip.status, 0) << skip.output;
  EXPECT_THAT(skip.output, HasSubstr("skipping the update"));
}

TEST(CliTrain, OpProfileListsTheStepsKernels) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny", "steps: 4");
  ::setenv("DLT_PROFILE_OPS", "1", 1);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run")));
  ::unsetenv("DLT_PROFILE_OPS");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("op profile (DLT_PROFILE_OPS)"));
  EXPECT_THAT(r.output, HasSubstr("linear"));
  EXPECT_THAT(r.output, HasSubstr("adam_step"));
}

// The example GPT config, made small, on a subword token file: its
// model.vocab_size is set to the file's @vocab_size.
TEST(CliTrain, GptOnSentencePieceTokens) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  data::testing::write_file(tmp.path("t.txt"), data::testing::sample_text(40'000));
  const CliResult imp = run_dlt(fmt::format("data import text {} --vocab sentencepiece --vocab-size 320 --out {}",
                                            tmp.path("t.txt"), tmp.path("sp.h5")));
  ASSERT_EQ(imp.status, 0) << imp.output;
  const CliResult r = run_dlt(fmt::format(
      "train {}/configs/kjv_gpt.yaml --run-dir {} --set data.file={} --set model.vocab_size=320 "
      "--set data.block_size=32 --set model.block_size=32 --set model.embed_dim=32 --set model.layers=1 "
      "--set data.batch_size=4 --set train.steps=4 --set schedule.warmup_steps=1 --set train.log_every=1 "
      "--set train.eval_every=4 --set checkpoint.every=4",
      DLT_SOURCE_DIR, tmp.path("run"), tmp.path("sp.h5")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("final: step 4 val loss"));
  const auto losses = train_losses(tmp.path("run"));
  ASSERT_EQ(losses.size(), 4u);
  EXPECT_NEAR(losses.front().second, std::log(320.0), 1.0);  // about uniform over the vocabulary at first

  // A model with fewer outputs than the file's vocabulary is stopped before
  // training, naming both sizes.
  const CliResult small = run_dlt(fmt::format(
      "train {}/configs/kjv_gpt.yaml --run-dir {} --set data.file={} --set model.vocab_size=100",
      DLT_SOURCE_DIR, tmp.path("small"), tmp.path("sp.h5")));
  expect_one_line_error(small, {"kjv_gpt.yaml", "predicts 100 token ids", "vocabulary of 320"});
  EXPECT_FALSE(fs::exists(tmp.path("small/checkpoints")));
}

TEST(CliTrainBadInput, OneErrorLineAndExit2) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny");
  data::testing::write_file(tmp.path("file"), "");
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("file/run"))),
                        {"cannot create the run folder", "file/run"});
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --set data.file={}", cfg, tmp.path("r"),
                                            tmp.path("missing.h5"))),
                        {"missing.h5"});
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, tmp.path("empty"))),
                        {"--resume: no checkpoint in"});
  // Found only once the step count is known, still named by file and line.
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --set schedule.warmup_steps=100", cfg,
                                            tmp.path("warm"))),
                        {"tiny.yaml:15:", "total_steps (24) must be greater than warmup_steps (100)"});
}

TEST(CliTrainBadInput, ExistingCheckpointsAreNeverOverwritten) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "tiny");
  const fs::path run = tmp.path("run");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, run.string())).status, 0);
  const fs::path model = run / "checkpoints/step-24/model.safetensors";
  const std::string before = read_file(model);

  // A fresh run into the same folder.
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {}", cfg, run.string())),
                        {"already has checkpoints (step-24)", "--resume"});
  // Another configuration.
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --resume --set optim.lr=0.5", cfg, run.string())),
                        {"step-24 was made with a different configuration"});
  // Another model, through eval.
  expect_one_line_error(run_dlt(fmt::format("eval {} --checkpoint {} --set model[0].out=8", cfg, run.string())),
                        {"model.safetensors does not match the model", "0.weight (saved [16, 6] float32, expected [8, 6]"});
  // A corrupt newest checkpoint is kept aside, byte for byte, and the run
  // resumes from the one before it (tests/train/test_disk_faults.cpp).
  data::testing::truncate_file(model.string(), int64_t(before.size()) - 5);
  const std::string truncated = read_file(model);
  const CliResult fallback = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, run.string()));
  EXPECT_EQ(fallback.status, 0) << fallback.output;
  EXPECT_THAT(fallback.output, HasSubstr(model.string() + " is corrupt"));
  EXPECT_EQ(read_file(run / "checkpoints/step-24.corrupt/model.safetensors"), truncated);
  // With no intact checkpoint left: an error naming the file.
  for (const auto& e : fs::directory_iterator(run / "checkpoints"))
    if (e.path().filename() != "step-24" && e.is_directory()) fs::remove_all(e.path());
  data::testing::write_file((run / "checkpoints/step-24/state.json").string(), "{\"step\": ");
  expect_one_line_error(run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, run.string())),
                        {"state.json", "invalid JSON"});
}

}  // namespace
}  // namespace dlt::train
