// `dlt verify-resume`: a run killed with SIGKILL after a checkpoint and
// resumed ends bit for bit where the straight run does, and the comparison
// names what differs when something does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dlt/train/checkpoint.h"
#include "dlt/train/file_io.h"
#include "dlt/train/verify_resume.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using ::testing::HasSubstr;

// Dropout, shuffling over 2 workers, AdamW with a schedule and clipping: all
// the state a resume must restore.
std::string write_config(const TempDir& tmp) {
  data::testing::write_classification(tmp.path("data.h5"), 400, 32, 6, 3);
  const std::string path = tmp.path("v.yaml");
  data::testing::write_file(path, fmt::format(R"(name: v
seed: 2
data: {{file: {}, train: {{x: train/x, y: train/y}}, val: {{x: val/x, y: val/y}}, batch_size: 8, workers: 2}}
model: [{{type: Linear, out: 64}}, {{type: ReLU}}, {{type: Dropout, p: 0.2}}, {{type: Linear, out: 3}}]
optim: {{name: adamw, lr: 0.01}}
schedule: {{name: cosine, warmup_steps: 5}}
train: {{steps: 60, eval_every: 20, grad_clip: 1.0}}
)",
                                              tmp.path("data.h5")));
  return path;
}

TEST(VerifyResume, AKilledAndResumedRunIsExact) {
  TempDir tmp;
  const std::string cfg = write_config(tmp);
  const CliResult r = run_dlt(fmt::format("verify-resume {} --seed 7 --work-dir {}", cfg, tmp.path("work")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::ContainsRegex("killed with SIGKILL after step [0-9]+ of 60; resumed from the "
                                                 "checkpoint of step (15|30|45)"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("resume is exact: [0-9]+ tensors and state.json identical at step 60"));
  EXPECT_THAT(read_file(tmp.path("work/resumed.log")), HasSubstr("resuming from"));
  // Also in bf16 with loss scaling, and with --steps over the config's.
  const CliResult amp = run_dlt(fmt::format("verify-resume {} --steps 40 --set train.precision=bf16 "
                                            "--set train.loss_scale=dynamic --seed 3",
                                            cfg));
  EXPECT_EQ(amp.status, 0) << amp.output;
  EXPECT_THAT(amp.output, HasSubstr("resume is exact"));
}

TEST(VerifyResume, BadInputIsAnErrorWithExit2) {
  TempDir tmp;
  const std::string cfg = write_config(tmp);
  const CliResult few = run_dlt(fmt::format("verify-resume {} --steps 3", cfg));
  EXPECT_EQ(few.status, 2) << few.output;
  EXPECT_THAT(few.output, HasSubstr("--steps 3 leaves no room"));
  const CliResult typo = run_dlt(fmt::format("verify-resume {} --set optim.lrr=1", cfg));
  EXPECT_EQ(typo.status, 2) << typo.output;
  EXPECT_THAT(typo.output, HasSubstr("optim.lrr"));
}

// Two checkpoints that differ in one element of one tensor and in state.json.
TEST(VerifyResume, TheComparisonNamesTheFirstDifference) {
  TempDir tmp;
  Checkpoint c;
  c.state.step = 3;
  c.state.config_hash = "h";
  c.model = {{"w", arange(6, TensorOptions(DType::f32)).reshape({2, 3})}, {"b", zeros({3})}};
  c.optimizer = {{"step", scalar_tensor(3, DType::i64)}};
  CheckpointStore(tmp.path("a")).save(c);
  c.model["w"] = c.model["w"].clone();
  c.model["w"].data_ptr<float>()[4] = 4.5f;
  c.optimizer["extra"] = zeros({1});
  c.state.cursor.batch = 9;
  CheckpointStore(tmp.path("b")).save(c);
  int64_t tensors = 0;
  const std::vector<std::string> d = compare_checkpoints(tmp.path("a/step-3"), tmp.path("b/step-3"), &tensors);
  EXPECT_EQ(tensors, 3);
  EXPECT_THAT(d, ::testing::ElementsAre("model.safetensors: w first differs at element 4 of 6: 4 straight, 4.5 resumed",
                                        "optimizer.safetensors: extra is only in the resumed run",
                                        HasSubstr("state.json differs")));
  EXPECT_TRUE(compare_checkpoints(tmp.path("a/step-3"), tmp.path("a/step-3")).empty());
}

}  // namespace
}  // namespace dlt::train
