// metrics.jsonl in the run folder: one JSON object per line,
//   {"step": 200, "epoch": 1, "split": "val", "loss": 0.41, "accuracy": 0.86,
//    "perplexity": null, "lr": 0.001, "samples_per_s": 5123.4, "grad_norm": 1.7,
//    "time": 1796519670.7}
// Keys whose value a record lacks are left out (perplexity only for language
// models, accuracy only for classifiers, lr and samples/s only for train).
// Each line is flushed as it is written, so `tail -f` and a crash both see
// whole lines.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dlt/train/json.h"

namespace dlt::train {

struct MetricsRecord {
  int64_t step = 0;
  int64_t epoch = 0;
  std::string split;  // "train" or "val"
  double loss = 0;
  std::optional<double> accuracy, perplexity, lr, samples_per_s;
  std::optional<double> grad_norm;  // train: the last step's gradient norm, before clipping
  std::optional<double> tflops, mfu;  // train: achieved TFLOP/s of the job and its share of the peak
  std::optional<double> time;       // when it was written (Unix seconds)
  // train, with loss scaling: the scale after the last step, and the steps of
  // this record's window skipped for an inf/NaN gradient
  std::optional<double> loss_scale, skipped_steps;

  Json to_json() const;
};

class MetricsLog {
 public:
  // A fresh log, or (resume) the existing one without the records after
  // `resume_step`: those came from steps that the resumed run repeats.
  explicit MetricsLog(std::filesystem::path path, std::optional<int64_t> resume_step = std::nullopt);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void write(const MetricsRecord& r);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

// Every record of a metrics.jsonl (for tests and tools); a bad line is a
// dlt::Error naming the file and line number.
std::vector<Json> read_metrics(const std::filesystem::path& path);

}  // namespace dlt::train
