// What a `dlt train` run logged: the "train" records of its metrics.jsonl.
#pragma once

#include <filesystem>
#include <utility>
#include <vector>

#include "dlt/train/metrics_log.h"

namespace dlt::testing {

// (step, loss) of every "train" record, in file order.
inline std::vector<std::pair<int64_t, double>> train_losses(const std::filesystem::path& run) {
  std::vector<std::pair<int64_t, double>> out;
  for (const train::Json& r : train::read_metrics(run / "metrics.jsonl"))
    if (r.at("split").as_string("split") == "train")
      out.emplace_back(r.at("step").as_int("step"), r.at("loss").as_double("loss"));
  return out;
}

}  // namespace dlt::testing
