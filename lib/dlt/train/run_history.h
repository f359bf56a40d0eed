// A finished or running run as `dlt report` sees it: its metrics.jsonl as
// series of (step, value) per metric ("train/loss", "val/accuracy",
// "train/lr", ...), and what a summary table wants from it.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlt::train {

struct Series {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

struct RunHistory {
  std::string name;               // the run folder's name
  std::filesystem::path dir;
  std::map<std::string, Series> series;  // by "split/metric"
  double seconds = 0;             // from the first record to the last
  std::optional<double> samples_per_s;   // mean of the train records'
  std::string best_metric;        // checkpoint.best's metric (config.resolved.yaml), or val/loss
  bool maximize = false;
  std::optional<int64_t> best_step;
  std::optional<std::filesystem::path> best_checkpoint;  // if that step's checkpoint is on disk
};

// Reads runs/<name> (a folder with metrics.jsonl). A missing or damaged
// file is a dlt::Error naming it.
RunHistory read_run(const std::filesystem::path& dir);

// TensorBoard's smoothing: a debiased exponential moving average with
// weight `smooth` in [0, 1) (0: the values as they are).
std::vector<double> smoothed(const std::vector<double>& values, double smooth);

// One table per run: steps, time, throughput, best and final values of
// every metric, and where the best checkpoint is.
std::string summary_table(const RunHistory& run);

}  // namespace dlt::train
