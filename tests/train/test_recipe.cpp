// Recipes: reading expect: bounds (errors at file:line:col), checking them
// against metrics.jsonl records, and the table and JUnit XML of results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dlt/train/recipe.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

using data::testing::write_file;
using dlt::testing::expect_error;
using dlt::testing::TempDir;
using ::testing::HasSubstr;

std::vector<Bound> bounds_of(const std::string& yaml) {
  return parse_bounds(config::load_string(yaml, "r.yaml").at("expect"));
}

TEST(Recipe, ReadsFinalAndPerStepBounds) {
  const auto b = bounds_of(
      "expect:\n"
      "  val/accuracy: {min: 0.86}\n"
      "  val/loss: {max: 1.9, min: 0.1}\n"
      "  at_step: {200: {train/loss: {max: 1.2}}}\n");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].metric, "val/accuracy");
  EXPECT_EQ(b[0].min, 0.86);
  EXPECT_FALSE(b[0].max);
  EXPECT_FALSE(b[0].step);
  EXPECT_EQ(b[0].describe(), "min 0.86");
  EXPECT_EQ(b[1].describe(), "in [0.1, 1.9]");
  EXPECT_EQ(b[2].metric, "train/loss");
  EXPECT_EQ(b[2].step, 200);
  EXPECT_EQ(b[2].describe(), "max 1.2");
  EXPECT_EQ(b[2].location, "r.yaml:4:31");
}

TEST(Recipe, BadBoundsNameTheirPlace) {
  expect_error([] { bounds_of("expect:\n  val/acuracy: {min: 0.8}\n"); },
               {"r.yaml:2:16: expect.val/acuracy: unknown metric 'val/acuracy'", "did you mean 'val/accuracy'?"});
  expect_error([] { bounds_of("expect:\n  val/loss: {max: 1, min: 2}\n"); }, {"r.yaml:2:13:", "min 2 is above max 1"});
  expect_error([] { bounds_of("expect:\n  val/loss: {maximum: 1}\n"); }, {"r.yaml:2:", "unknown key 'maximum'"});
  expect_error([] { bounds_of("expect:\n  val/loss: 1.5\n"); }, {"r.yaml:2:13:", "expected a bound {min: X}"});
  expect_error([] { bounds_of("expect:\n  val/loss: {max: low}\n"); }, {"r.yaml:2:", "low"});
  expect_error([] { bounds_of("expect:\n  at_step: {ten: {train/loss: {max: 1}}}\n"); },
               {"r.yaml:2:", "expected a step number >= 1 as the key, got 'ten'"});
  expect_error([] { bounds_of("expect: [val/loss]\n"); }, {"r.yaml:1:9:", "expected a map of metric bounds"});
}

// A small experiment (by epochs) for recipes to name as their base:.
std::string write_base(const TempDir& tmp) {
  const std::string base = tmp.path("base.yaml");
  write_file(base,
             "name: base\ndata: {file: d.h5, train: {x: a, y: b}}\nmodel: [{type: Linear, out: 2}]\n"
             "optim: {name: sgd, lr: 0.1}\ntrain: {epochs: 3}\n");
  return base;
}

TEST(Recipe, LoadsABaseWithOverridesAndPointsOverrideErrorsIntoTheRecipe) {
  TempDir tmp;
  const std::string base = write_base(tmp);
  write_file(tmp.path("good.yaml"), "base: " + base +
                                        "\nset: {train.epochs: null, train.steps: 40, optim.lr: 0.5}\n"
                                        "expect:\n  train/loss: {max: 0.5}\n  resume: {interrupt_at: 10}\n");
  const Recipe r = load_recipe(tmp.path("good.yaml"), tmp.path("runs"));
  EXPECT_EQ(r.name, "good");
  EXPECT_EQ(r.spec.train.steps, 40);
  EXPECT_EQ(r.spec.optim.lr, 0.5);
  EXPECT_EQ(r.spec.run_dir, tmp.path("runs") + "/good");
  EXPECT_EQ(r.spec.checkpoint.dir, tmp.path("runs") + "/good/checkpoints");
  ASSERT_EQ(r.bounds.size(), 1u);
  EXPECT_EQ(r.interrupt_at, 10);

  write_file(tmp.path("both.yaml"), "base: " + base + "\nset: {train.steps: 40}\nexpect: {train/loss: {max: 1}}\n");
  expect_error([&] { load_recipe(tmp.path("both.yaml")); },
               {tmp.path("both.yaml") + ":2:20: train.steps: give either epochs or steps, not both"});
  write_file(tmp.path("key.yaml"), "base: " + base + "\nsets: {}\nexpect: {train/loss: {max: 1}}\n");
  expect_error([&] { load_recipe(tmp.path("key.yaml")); }, {"key.yaml:2:1:", "unknown key 'sets'", "'set'"});
  write_file(tmp.path("nobase.yaml"), "base: missing.yaml\nexpect: {train/loss: {max: 1}}\n");
  expect_error([&] { load_recipe(tmp.path("nobase.yaml")); }, {"nobase.yaml:1:7:", "no such file 'missing.yaml'"});
  write_file(tmp.path("noexpect.yaml"), "base: " + base + "\n");
  expect_error([&] { load_recipe(tmp.path("noexpect.yaml")); }, {"noexpect.yaml:1:1:", "needs an expect: block"});
  write_file(tmp.path("stop.yaml"), "base: " + base + "\nexpect: {resume: {interrupt_at: 0}}\n");
  expect_error([&] { load_recipe(tmp.path("stop.yaml")); }, {"stop.yaml:2:33:", "expected a step >= 1, got 0"});
}

// resume: {kill: true} asks for dlt verify-resume (tests/cli/test_cli_recipe.cpp runs one).
TEST(Recipe, ReadsTheKillCheckAndItsMistakes) {
  TempDir tmp;
  const std::string base = write_base(tmp);
  write_file(tmp.path("kill.yaml"), "base: " + base +
                                        "\nset: {train.epochs: null, train.steps: 40}\n"
                                        "expect: {resume: {kill: true, seed: 7}}\n");
  const Recipe r = load_recipe(tmp.path("kill.yaml"));
  EXPECT_TRUE(r.kill_resume);
  EXPECT_EQ(r.kill_seed, 7u);
  EXPECT_FALSE(r.interrupt_at);
  write_file(tmp.path("epochs.yaml"), "base: " + base + "\nexpect: {resume: {kill: true}}\n");
  expect_error([&] { load_recipe(tmp.path("epochs.yaml")); },
               {"epochs.yaml:2:25:", "the kill check needs a run of train.steps (this recipe trains by epochs)"});
  write_file(tmp.path("seed.yaml"), "base: " + base + "\nexpect: {resume: {interrupt_at: 5, seed: 3}}\n");
  expect_error([&] { load_recipe(tmp.path("seed.yaml")); }, {"seed.yaml:2:42:", "add kill: true"});
  write_file(tmp.path("empty.yaml"), "base: " + base + "\nexpect: {resume: {}}\n");
  expect_error([&] { load_recipe(tmp.path("empty.yaml")); }, {"empty.yaml:2:", "expected {interrupt_at: STEP} and/or {kill: true}"});
}

TEST(Recipe, ChecksBoundsAgainstTheRecords) {
  TempDir tmp;
  write_file(tmp.path("metrics.jsonl"),
             R"({"step": 10, "epoch": 0, "split": "train", "loss": 1.5, "lr": 0.1}
{"step": 10, "epoch": 0, "split": "val", "loss": 1.2, "accuracy": 0.7}
{"step": 20, "epoch": 0, "split": "train", "loss": 0.9, "lr": 0.1}
{"step": 20, "epoch": 0, "split": "val", "loss": 0.8, "accuracy": 0.81}
)");
  const auto checks = check_bounds(bounds_of("expect:\n"
                                             "  val/accuracy: {min: 0.86}\n"
                                             "  val/loss: {max: 0.9}\n"
                                             "  val/perplexity: {max: 3}\n"
                                             "  at_step:\n"
                                             "    10: {train/loss: {max: 1.2}, val/accuracy: {min: 0.5}}\n"
                                             "    15: {train/loss: {max: 1.2}}\n"),
                                   tmp.path("metrics.jsonl"));
  ASSERT_EQ(checks.size(), 6u);
  EXPECT_FALSE(checks[0].pass);  // the last val record, not the best
  EXPECT_EQ(checks[0].failure(), "val/accuracy 0.81 < min 0.86");
  EXPECT_TRUE(checks[1].pass);
  EXPECT_EQ(checks[1].value, "0.8");
  EXPECT_FALSE(checks[2].pass);  // a classifier's records have no perplexity
  EXPECT_THAT(checks[2].value, HasSubstr("missing"));
  EXPECT_EQ(checks[3].check, "train/loss@10");
  EXPECT_FALSE(checks[3].pass);
  EXPECT_EQ(checks[3].failure(), "train/loss@10 1.5 > max 1.2");
  EXPECT_TRUE(checks[4].pass);
  EXPECT_FALSE(checks[5].pass);
  EXPECT_EQ(checks[5].value, "missing (no train record at step 15)");
}

TEST(Recipe, WritesATableAndJUnit) {
  RecipeResult ok{.name = "mlp", .checks = {{"val/accuracy", "min 0.8", "0.85", true}}, .seconds = 2.5, .error = ""};
  RecipeResult bad{.name = "cnn<1>",
                   .checks = {{"val/accuracy", "min 0.86", "0.81", false}, {"val/loss", "max 2", "0.5", true}},
                   .seconds = 1, .error = ""};
  RecipeResult broken{.name = "gpt", .checks = {}, .seconds = 0, .error = "data/kjv.h5: no such file"};
  EXPECT_TRUE(ok.pass());
  EXPECT_FALSE(bad.pass());
  EXPECT_FALSE(broken.pass());

  const std::string table = results_table({ok, bad, broken});
  EXPECT_THAT(table, HasSubstr("recipe  check         bound     value                      result  time"));
  EXPECT_THAT(table, HasSubstr("mlp     val/accuracy  min 0.8   0.85                       PASS    2.5s"));
  EXPECT_THAT(table, HasSubstr("cnn<1>  val/accuracy  min 0.86  0.81                       FAIL    1.0s"));
  EXPECT_THAT(table, HasSubstr("gpt     run           -         data/kjv.h5: no such file  FAIL"));

  const std::string xml = junit_xml({ok, bad, broken});
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"recipes\" tests=\"3\" failures=\"2\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"recipes\" name=\"mlp\" time=\"2.500\"/>"));
  EXPECT_THAT(xml, HasSubstr("name=\"cnn&lt;1&gt;\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"val/accuracy 0.81 &lt; min 0.86\">"));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"data/kjv.h5: no such file\">"));
  EXPECT_EQ(xml.find("val/loss 0.5"), std::string::npos);  // passing bounds are not failures
}

}  // namespace
}  // namespace dlt::train
