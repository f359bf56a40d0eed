// `dlt recipe run` through the binary on a tiny synthetic data set: a recipe
// that passes (with an exact-resume check), one that fails, and bad input;
// exit statuses, the table and the JUnit file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::read_file;
using data::testing::TempDir;
using data::testing::write_file;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;


// A full experiment with an expect: block (dropout and 2 shuffling workers,
// so the resume check has generators and a loader cursor to restore).
void write_recipe(const TempDir& tmp, const std::string& name, const std::string& expect) {
  write_file(tmp.path("recipes/" + name + ".yaml"), fmt::format(R"(seed: 1
data:
  file: {0}
  train: {{x: train/x, y: train/y}}
  val: {{x: val/x, y: val/y}}
  batch_size: 8
  workers: 2
model:
  - {{type: Linear, out: 16}}
  - {{type: ReLU}}
  - {{type: Dropout, p: 0.1}}
  - {{type: Linear, out: 2}}
optim: {{name: adamw, lr: 0.02}}
schedule: {{name: cosine, warmup_steps: 2}}
train: {{steps: 40, log_every: 1, eval_every: 8}}
expect:
{1}
)",
                                                                tmp.path("data.h5"), expect));
}

// resume: {kill: true}: dlt verify-resume on the recipe's resolved experiment
// (a process killed with SIGKILL after a checkpoint, resumed, every tensor compared).
TEST(CliRecipe, AKillCheckVerifiesTheResumeOfAKilledRun) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 64, 32, 4, 2);
  fs::create_directories(tmp.path("recipes"));
  write_recipe(tmp, "killed", "  resume: {kill: true, seed: 5}");
  const std::string runs = tmp.path("runs");
  const CliResult r = run_dlt(fmt::format("recipe run {} --runs-dir {}", tmp.path("recipes/killed.yaml"), runs));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, MatchesRegex("(.|\n)*killed  verify_resume  identical after SIGKILL  [0-9]+ tensors and state.json "
                                     "identical \\(killed after step [0-9]+, resumed from [0-9]+, seed 5\\)  PASS(.|\n)*"));
  EXPECT_TRUE(fs::exists(runs + "/killed-verify-resume/straight/checkpoints/step-40"));
  EXPECT_TRUE(fs::exists(runs + "/killed-verify-resume/killed/checkpoints/step-40"));
}

TEST(CliRecipe, PassingAndFailingRecipes) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 64, 32, 4, 2);
  fs::create_directories(tmp.path("recipes"));
  write_recipe(tmp, "learns",
               "  val/accuracy: {min: 0.7}\n"
               "  at_step: {8: {train/loss: {max: 2}}}\n"
               "  resume: {interrupt_at: 13}");
  const std::string runs = tmp.path("runs");
  const std::string junit = tmp.path("junit.xml");

  const CliResult ok = run_dlt(fmt::format("recipe run {} --runs-dir {} --junit {}",
                                           tmp.path("recipes/learns.yaml"), runs, junit));
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("recipe  check           bound"));
  EXPECT_THAT(ok.output, MatchesRegex("(.|\n)*learns  val/accuracy    min 0.7 +[0-9.]+ +PASS(.|\n)*"));
  EXPECT_THAT(ok.output, HasSubstr("train/loss@8    max 2"));
  EXPECT_THAT(ok.output, HasSubstr("records and model.safetensors identical  PASS"));
  EXPECT_THAT(ok.output, HasSubstr("1 of 1 recipes passed"));
  EXPECT_TRUE(fs::exists(runs + "/learns/metrics.jsonl"));
  EXPECT_TRUE(fs::exists(runs + "/learns-resumed/checkpoints/step-13"));  // it really stopped there
  EXPECT_THAT(read_file(junit), HasSubstr("<testcase classname=\"recipes\" name=\"learns\""));
  EXPECT_THAT(read_file(junit), HasSubstr("tests=\"1\" failures=\"0\""));

  // A folder of recipes: the one that cannot be met fails, naming the bound
  // and the value; the run folder is wiped first, so a rerun starts fresh.
  write_recipe(tmp, "too_good", "  val/accuracy: {min: 1.01}\n  val/loss: {max: 100}");
  const CliResult bad = run_dlt(fmt::format("recipe run {} --runs-dir {} --junit {}", tmp.path("recipes"), runs, junit));
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_THAT(bad.output, MatchesRegex("(.|\n)*too_good +val/accuracy +min 1\\.01 +[0-9.]+ +FAIL(.|\n)*"));
  EXPECT_THAT(bad.output, HasSubstr("1 of 2 recipes passed"));
  const std::string xml = read_file(junit);
  EXPECT_THAT(xml, HasSubstr("tests=\"2\" failures=\"1\""));
  EXPECT_THAT(xml, MatchesRegex("(.|\n)*<failure message=\"val/accuracy [0-9.]+ &lt; min 1\\.01\">(.|\n)*"));
  EXPECT_EQ(xml.find("val/loss"), std::string::npos);
}

TEST(CliRecipe, BadInputIsOneLineAndStatus2BeforeAnyTraining) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 64, 32, 4, 2);
  fs::create_directories(tmp.path("recipes"));
  write_recipe(tmp, "a_fine", "  val/accuracy: {min: 0.5}");
  write_recipe(tmp, "b_typo", "  val/acc: {min: 0.5}");
  const CliResult r = run_dlt(fmt::format("recipe run {} --runs-dir {}", tmp.path("recipes"), tmp.path("runs")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output, fmt::format("error: {}:17:12: expect.val/acc: unknown metric 'val/acc' (known: val/loss, "
                                  "val/accuracy, val/perplexity, train/loss)\n",
                                  tmp.path("recipes/b_typo.yaml")));
  EXPECT_FALSE(fs::exists(tmp.path("runs/a_fine")));

  const CliResult missing = run_dlt("recipe run " + tmp.path("nothing_here"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_THAT(missing.output, HasSubstr("nothing_here: no such file or folder"));
}

}  // namespace
}  // namespace dlt::train
