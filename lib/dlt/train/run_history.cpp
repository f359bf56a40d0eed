#include "dlt/train/run_history.h"

#include <yaml-cpp/yaml.h>

#include <cmath>

#include "dlt/core/error.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/progress.h"

namespace dlt::train {

namespace fs = std::filesystem;

RunHistory read_run(const fs::path& dir) {
  const fs::path file = dir / "metrics.jsonl";
  DLT_CHECK(fs::is_regular_file(file), "{} is not a run folder: it has no metrics.jsonl", dir.string());
  RunHistory run;
  run.dir = dir;
  run.name = fs::path(dir).lexically_normal().filename().string();
  if (run.name.empty()) run.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::optional<double> first_time, last_time;
  double rate_sum = 0;
  int64_t rates = 0;
  for (const Json& r : read_metrics(file)) {
    const std::string split = r.at("split").as_string("split");
    const int64_t step = r.at("step").as_int("step");
    for (const auto& [key, value] : r.members("record")) {
      if (key == "step" || key == "epoch" || key == "split" || value.is_null()) continue;
      const double v = value.as_double(key);
      if (key == "time") {
        if (!first_time) first_time = v;
        last_time = v;
        continue;
      }
      if (key == "samples_per_s") {
        rate_sum += v;
        ++rates;
      }
      Series& s = run.series[split + "/" + key];
      s.steps.push_back(step);
      s.values.push_back(v);
    }
  }
  if (first_time) run.seconds = *last_time - *first_time;
  if (rates > 0) run.samples_per_s = rate_sum / double(rates);

  run.best_metric = "val/loss";
  if (const fs::path cfg = dir / "config.resolved.yaml"; fs::exists(cfg)) {
    const YAML::Node best = YAML::LoadFile(cfg.string())["checkpoint"]["best"];
    if (best && best.IsMap()) {
      run.best_metric = best["metric"].as<std::string>();
      run.maximize = best["mode"].as<std::string>() == "max";
    }
  }
  if (const auto it = run.series.find(run.best_metric); it != run.series.end() && !it->second.values.empty()) {
    const Series& s = it->second;
    size_t at = 0;
    for (size_t i = 1; i < s.values.size(); ++i)
      if (run.maximize ? s.values[i] > s.values[at] : s.values[i] < s.values[at]) at = i;
    run.best_step = s.steps[at];
    if (const fs::path c = dir / "checkpoints" / fmt::format("step-{}", s.steps[at]); fs::exists(c))
      run.best_checkpoint = c;
  }
  return run;
}

std::vector<double> smoothed(const std::vector<double>& values, double smooth) {
  DLT_CHECK(smooth >= 0 && smooth < 1, "--smooth must be in [0, 1), got {}", smooth);
  std::vector<double> out;
  double last = 0, weight = 0;
  for (const double v : values) {
    if (!std::isfinite(v)) {
      out.push_back(v);
      continue;
    }
    last = last * smooth + (1 - smooth) * v;
    weight = weight * smooth + (1 - smooth);
    out.push_back(last / weight);  // debiased: the first points are not pulled towards 0
  }
  return out;
}

std::string summary_table(const RunHistory& run) {
  std::string out = fmt::format("{}  ({})\n", run.name, run.dir.string());
  int64_t last_step = 0;
  for (const auto& [name, s] : run.series)
    if (!s.steps.empty()) last_step = std::max(last_step, s.steps.back());
  out += fmt::format("  steps {}, time {}", last_step, Progress::format_duration(run.seconds));
  if (run.samples_per_s) out += fmt::format(", {:.0f} samples/s", *run.samples_per_s);
  out += "\n";
  out += fmt::format("  {:<20} {:>12} {:>8} {:>12} {:>8}\n", "metric", "best", "at step", "final", "at step");
  for (const auto& [name, s] : run.series) {
    if (name == "train/lr" || name == "train/samples_per_s" || s.values.empty()) continue;
    const bool up = name.ends_with("accuracy");
    size_t at = 0;
    for (size_t i = 1; i < s.values.size(); ++i)
      if (up ? s.values[i] > s.values[at] : s.values[i] < s.values[at]) at = i;
    out += fmt::format("  {:<20} {:>12.5g} {:>8} {:>12.5g} {:>8}\n", name, s.values[at], s.steps[at], s.values.back(),
                       s.steps.back());
  }
  if (run.best_step)
    out += fmt::format("  best by {}: step {}{}\n", run.best_metric, *run.best_step,
                       run.best_checkpoint ? ", checkpoint " + run.best_checkpoint->string() : " (its checkpoint was not kept)");
  return out;
}

}  // namespace dlt::train
