// A long CPU run keeps its memory flat: 20,000 steps of a small MLP with
// evaluation, checkpoints (pruned to 2), metrics and TensorBoard records on
// the way, the resident set sampled every 50 ms from /proc. After the
// warm-up (the first fifth of the run) the peak may not grow by more than
// 4 MiB: a leak of one tensor or record per step would show within the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

using data::testing::TempDir;

TEST(LongRun, ResidentMemoryStaysFlatOver20000Steps) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 2000, 200, 16, 4);
  const std::string cfg = tmp.path("long.yaml");
  data::testing::write_file(cfg, fmt::format(R"(name: long
seed: 0
data: {{file: {}, train: {{x: train/x, y: train/y}}, val: {{x: val/x, y: val/y}}, batch_size: 16, workers: 2}}
model: [{{type: Linear, out: 64}}, {{type: ReLU}}, {{type: Dropout, p: 0.1}}, {{type: Linear, out: 4}}]
optim: {{name: adamw, lr: 0.001}}
schedule: {{name: cosine, warmup_steps: 100}}
train: {{steps: 20000, log_every: 20, eval_every: 2000, grad_clip: 1.0}}
checkpoint: {{every: 1000, keep: 2}}
)",
                                             tmp.path("data.h5")));
  const std::string samples = tmp.path("rss.txt");
  const auto r = dlt::testing::run_shell(fmt::format(
      "{} train {} --run-dir {} >{}/log.txt 2>&1 & pid=$!; "
      "while kill -0 $pid 2>/dev/null; do sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\) kB/\\1/p' /proc/$pid/status >>{} 2>/dev/null; "
      "sleep 0.05; done; wait $pid",
      dlt::testing::dlt_program(), cfg, tmp.path("run"), tmp.path(""), samples));
  ASSERT_EQ(r.status, 0) << data::testing::read_file(tmp.path("log.txt"));
  std::vector<int64_t> kib;
  std::ifstream in(samples);
  for (int64_t v; in >> v;) kib.push_back(v);
  ASSERT_GE(kib.size(), 20u) << "too few samples: the run ended in under a second";
  const size_t warm = kib.size() / 5;
  const int64_t after_warmup = *std::max_element(kib.begin() + int64_t(warm), kib.begin() + int64_t(2 * warm));
  const int64_t end_peak = *std::max_element(kib.begin() + int64_t(2 * warm), kib.end());
  EXPECT_LE(end_peak - after_warmup, 4096) << "resident memory grew from " << after_warmup << " KiB to " << end_peak
                                           << " KiB over " << kib.size() << " samples";
  RecordProperty("rss_after_warmup_kib", std::to_string(after_warmup));
  RecordProperty("rss_peak_kib", std::to_string(end_peak));
  std::fprintf(stderr, "long run: %zu samples, RSS %lld KiB after warm-up, peak %lld KiB later\n", kib.size(),
               static_cast<long long>(after_warmup), static_cast<long long>(end_peak));
}

}  // namespace
}  // namespace dlt::train
