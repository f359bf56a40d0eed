// TensorBoard event files: CRC-32C and TFRecord framing against published
// vectors and a reference encoder's bytes, reading events back, and runs of
// the dlt binary read with the real `tensorboard` package
// (tests/train/tensorboard_check.py), also after a resume and a kill -9.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "dlt/train/file_io.h"
#include "dlt/train/run_log.h"
#include "dlt/train/tensorboard.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using ::testing::HasSubstr;

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

TEST(Tensorboard, Crc32cMatchesPublishedVectors) {
  EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::vector<uint8_t>(32, 0)), 0x8A9136AAu);  // RFC 3720
  EXPECT_EQ(masked_crc32c(bytes("\x1a\x11" "CRC test, one two")), 0x5794D08Au);  // from a TensorFlow file
}

// Records of ../shared/notes/tfrecord_golden.py: a file_version event and a scalar event.
TEST(Tensorboard, RecordsMatchAReferenceEncoder) {
  EXPECT_EQ(tfrecord(from_hex("0900000040fc54d9411a0d627261696e2e4576656e743a32")),
            from_hex("1800000000000000a37f4b220900000040fc54d9411a0d627261696e2e4576656e743a32eced8f9d"));
  EXPECT_EQ(tfrecord(from_hex("0900006040fc54d94110072a130a110a0a747261696e2f6c6f7373150000803e")),
            from_hex("200000000000000029eda9500900006040fc54d94110072a130a110a0a747261696e2f6c6f7373150000803e"
                     "1d2b5fdf"));
}

TEST(Tensorboard, EventsReadBackAndATornTailIsDropped) {
  TempDir tmp;
  fs::path file;
  {
    EventWriter w(tmp.path("run"));
    w.scalars(1, {{"train/loss", 2.5}});
    w.scalars(7, {{"train/loss", 1.5}, {"train/lr", 0.1}});
    file = w.path();
  }
  EXPECT_THAT(file.filename().string(), HasSubstr("events.out.tfevents."));
  auto events = read_events(file);
  ASSERT_EQ(events.size(), 3u);  // file_version, step 1, step 7
  EXPECT_EQ(events[0].first, 0);
  EXPECT_EQ(events[2].first, 7);
  data::testing::truncate_file(file.string(), int64_t(fs::file_size(file)) - 3);  // killed mid-write
  EXPECT_EQ(read_events(file).size(), 2u);
}

TEST(Tensorboard, AResumedRunDropsTheStepsItRepeats) {
  TempDir tmp;
  fs::path first;
  {
    EventWriter w(tmp.path("run"));
    for (int64_t s = 1; s <= 20; ++s) w.scalars(s, {{"train/loss", double(s)}});
    first = w.path();
  }
  EventWriter resumed(tmp.path("run"), int64_t{12});
  const auto kept = read_events(first);
  ASSERT_EQ(kept.size(), 13u);  // file_version + steps 1..12
  EXPECT_EQ(kept.back().first, 12);
}

TEST(Tensorboard, HistogramsCountEveryValue) {
  const std::vector<float> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Histogram h = make_histogram(v, 5);
  EXPECT_EQ(h.num, 10);
  EXPECT_EQ(h.min, 0);
  EXPECT_EQ(h.max, 9);
  EXPECT_EQ(h.sum, 45);
  EXPECT_EQ(h.sum_squares, 285);
  EXPECT_EQ(h.bucket, (std::vector<double>{2, 2, 2, 2, 2}));
  EXPECT_EQ(h.bucket_limit.back(), 9);
}

TEST(Tensorboard, HparamsAreTheConfigsLeaves) {
  const auto h = leaf_values("optim: {lr: 0.01, name: sgd}\nmodel: [{type: Linear, out: 8}]\ndata: {drop_last: true}\n");
  EXPECT_EQ(std::get<double>(h.at("optim.lr")), 0.01);
  EXPECT_EQ(std::get<std::string>(h.at("optim.name")), "sgd");
  EXPECT_EQ(std::get<double>(h.at("model.0.out")), 8);
  EXPECT_EQ(std::get<bool>(h.at("data.drop_last")), true);
}

// ---- through the binary, read with the tensorboard package ------------------

std::string write_run_config(const TempDir& tmp, const std::string& extra = "") {
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string path = tmp.path("tb.yaml");
  data::testing::write_file(path, fmt::format(R"(name: tb
seed: 3
data: {{file: {}, train: {{x: train/x, y: train/y}}, val: {{x: val/x, y: val/y}}, batch_size: 8, workers: 1}}
model: [{{type: Linear, out: 16}}, {{type: ReLU}}, {{type: Linear, out: 3}}]
optim: {{name: adamw, lr: 0.01}}
train: {{steps: 24, log_every: 1, eval_every: 6}}
checkpoint: {{every: 5, keep: 20}}
{}
)",
                                              tmp.path("data.h5"), extra));
  return path;
}

// The checker's verdict; a test skips when the tensorboard package is missing.
CliResult check_events(const fs::path& run, const std::string& options = "") {
  return dlt::testing::run_shell(
      fmt::format("python3 {}/tests/train/tensorboard_check.py {} {}", DLT_SOURCE_DIR, run.string(), options));
}

#define EXPECT_EVENTS_MATCH_METRICS(run)                             \
  do {                                                               \
    const CliResult check = check_events(run);                       \
    if (check.status == 77) GTEST_SKIP() << check.output;            \
    EXPECT_EQ(check.status, 0) << check.output;                      \
  } while (0)

TEST(TensorboardRun, EveryScalarMatchesMetricsJsonl) {
  TempDir tmp;
  const std::string cfg = write_run_config(tmp, "logging: {histograms: 12}");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EVENTS_MATCH_METRICS(tmp.path("run"));
}

// Mixed precision with loss scaling adds train/loss_scale and train/skipped_steps.
TEST(TensorboardRun, TheLossScaleAndSkippedStepsAreScalarsToo) {
  TempDir tmp;
  const std::string cfg = write_run_config(tmp);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --set train.precision=bf16 "
                                          "--set 'train.loss_scale={{init: 1024, growth_interval: 5}}'",
                                          cfg, tmp.path("run")));
  ASSERT_EQ(r.status, 0) << r.output;
  const CliResult check = check_events(tmp.path("run"));
  if (check.status == 77) GTEST_SKIP() << check.output;
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_THAT(read_file(tmp.path("run/metrics.jsonl")), HasSubstr("\"loss_scale\":2048"));
}

TEST(TensorboardRun, OffWritesNoEventFile) {
  TempDir tmp;
  const std::string cfg = write_run_config(tmp, "logging: {tensorboard: false}");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run"))).status, 0);
  for (const auto& e : fs::directory_iterator(tmp.path("run")))
    EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr("tfevents")));
}

// Died after step 13 (checkpoint 10): the resumed run's events show each step once.
TEST(TensorboardRun, AResumedRunShowsEachStepOnce) {
  TempDir tmp;
  const std::string cfg = write_run_config(tmp);
  const fs::path a = tmp.path("a");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, a.string())).status, 0);
  for (const int64_t step : {15, 20, 24}) fs::remove_all(a / "checkpoints" / fmt::format("step-{}", step));
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, a.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("resuming from"));
  EXPECT_EVENTS_MATCH_METRICS(a);
}

// kill -9 mid-run: every event flushed before it reads back, the steps
// once each and equal to metrics.jsonl's (which may hold one record more).
TEST(TensorboardRun, AKilledRunKeepsItsFlushedEvents) {
  TempDir tmp;
  const std::string cfg = write_run_config(tmp);
  const fs::path run = tmp.path("run");
  const CliResult r = dlt::testing::run_shell(fmt::format(
      "{0} train {1} --run-dir {2} --set train.steps=100000 & pid=$!; "
      "until [ $(wc -l < {2}/metrics.jsonl 2>/dev/null || echo 0) -ge 30 ] || ! kill -0 $pid 2>/dev/null; do sleep 0.02; done; "
      "kill -KILL $pid; wait $pid; exit 0",
      dlt::testing::dlt_program(), cfg, run.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const CliResult check = check_events(run, "--killed");
  if (check.status == 77) GTEST_SKIP() << check.output;
  EXPECT_EQ(check.status, 0) << check.output;
}

}  // namespace
}  // namespace dlt::train
