// Regression recipes: an experiment (a full experiment file, or `base:` a
// config plus `set:` overrides) with an `expect:` block of bounds that a
// short training run must meet. `dlt recipe run` trains each one and
// reports PASS/FAIL per bound, as a table and as JUnit XML for CI.
//
//   base: configs/fashion_mlp.yaml
//   set: {train.epochs: 1}
//   expect:
//     val/accuracy: {min: 0.82}          # final value: the last record of its split
//     at_step: {200: {train/loss: {max: 0.8}}}
//     resume: {interrupt_at: 50}         # stop after step 50, resume: bit for bit
//     resume: {kill: true, seed: 7}      # dlt verify-resume: SIGKILL at a random step
//                                        # after a checkpoint, resume, every tensor bit for bit
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dlt/config/experiment.h"

namespace dlt::train {

// Metrics a bound can name: those metrics.jsonl records ("val/accuracy" is
// the accuracy of the last "val" record).
inline const std::vector<std::string> kRecipeMetrics = config::kBestMetrics;

struct Bound {
  std::string metric;               // one of kRecipeMetrics
  std::optional<int64_t> step;      // at this step; none: the final value
  std::optional<double> min, max;   // at least one
  std::string location;             // file:line:col of the bound, for messages

  std::string describe() const;     // "min 0.86", "max 1.9", "in [0.1, 0.2]"
};

struct Recipe {
  std::string name;  // the recipe file's stem
  config::ExperimentSpec spec;  // run_dir: runs/recipes/<name>
  std::vector<Bound> bounds;
  std::optional<int64_t> interrupt_at;  // resume check: stop after this step, resume
  bool kill_resume = false;             // resume check by dlt verify-resume
  std::optional<uint64_t> kill_seed;    // picks its step (random when absent)
};

// Reads a recipe; mistakes are dlt::Error "file:line:col: path: message".
Recipe load_recipe(const std::string& file, const std::filesystem::path& runs_root = "runs/recipes");
// The bounds of an expect: block (a map; null: no bounds).
std::vector<Bound> parse_bounds(const config::Node& expect);

struct CheckResult {
  std::string check;   // "val/accuracy", "train/loss@200", "bitwise_resume"
  std::string bound;   // "min 0.86", "identical"
  std::string value;   // "0.8712", "missing", "differs at step 51"
  bool pass = false;
  std::string failure() const;  // "val/accuracy 0.81 < min 0.86"
};

// Checks bounds against a run folder's metrics.jsonl records.
std::vector<CheckResult> check_bounds(const std::vector<Bound>& bounds, const std::filesystem::path& metrics_jsonl);

struct RecipeResult {
  std::string name;
  std::vector<CheckResult> checks;
  double seconds = 0;
  std::string error;  // the run itself failed (then checks is empty)
  bool pass() const;
};

// Wipes the run folder, trains, checks; a resume check trains twice more,
// the kill check three times more in processes of `program` (the dlt binary).
RecipeResult run_recipe(const Recipe& recipe, const std::string& program);

// The recipes named: files, or folders of *.yaml files (sorted).
std::vector<std::string> recipe_files(const std::vector<std::string>& paths);

std::string results_table(const std::vector<RecipeResult>& results);
// One testsuite "recipes", a testcase per recipe; a failing one has a
// <failure message="..."> naming each failed bound.
std::string junit_xml(const std::vector<RecipeResult>& results);

}  // namespace dlt::train
