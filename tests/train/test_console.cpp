// metrics.jsonl and the console progress display.
#include <gtest/gtest.h>

#include <cmath>

#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/progress.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

using data::testing::TempDir;
using ::testing::HasSubstr;

TEST(MetricsLog, WritesOneObjectPerLineWithOnlyTheKeysARecordHas) {
  TempDir tmp;
  const std::string path = tmp.path("metrics.jsonl");
  {
    MetricsLog log(path);
    log.write({.step = 1, .epoch = 0, .split = "train", .loss = 2.5, .lr = 0.1, .samples_per_s = 1000});
    log.write({.step = 2, .epoch = 0, .split = "val", .loss = 0.125, .accuracy = 0.875});
    log.write({.step = 3, .epoch = 1, .split = "val", .loss = NAN, .perplexity = 3.5});
  }
  EXPECT_EQ(read_file(path),
            "{\"step\":1,\"epoch\":0,\"split\":\"train\",\"loss\":2.5,\"lr\":0.1,\"samples_per_s\":1000}\n"
            "{\"step\":2,\"epoch\":0,\"split\":\"val\",\"loss\":0.125,\"accuracy\":0.875}\n"
            "{\"step\":3,\"epoch\":1,\"split\":\"val\",\"loss\":null,\"perplexity\":3.5}\n");
  const auto records = read_metrics(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].at("accuracy").as_double("accuracy"), 0.875);
}

TEST(MetricsLog, ResumingDropsTheRecordsAfterTheCheckpointAndATornLine) {
  TempDir tmp;
  const std::string path = tmp.path("metrics.jsonl");
  data::testing::write_file(path, "{\"step\":1,\"epoch\":0,\"split\":\"train\",\"loss\":1}\n"
                                  "{\"step\":2,\"epoch\":0,\"split\":\"train\",\"loss\":1}\n"
                                  "{\"step\":3,\"epoch\":0,\"split\":\"train\",\"loss\":1}\n"
                                  "{\"step\":4,\"ep");
  {
    MetricsLog log(path, 2);
    log.write({.step = 3, .epoch = 0, .split = "train", .loss = 0.5});
  }
  const auto records = read_metrics(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].at("loss").as_double("loss"), 0.5);
  data::testing::write_file(path, "{\"step\":1}\nnot json\n");
  dlt::testing::expect_error([&] { (void)read_metrics(path); }, {path + ":2: invalid JSON"});
}

TEST(MetricsLog, AnUnwritableFolderIsAnErrorNamingTheFile) {
  TempDir tmp;
  data::testing::write_file(tmp.path("file"), "");
  dlt::testing::expect_error([&] { MetricsLog log(tmp.path("file/metrics.jsonl")); },
                             {"cannot write", "file/metrics.jsonl"});
}

std::string captured(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  return out;
}

TEST(Progress, PlainLinesComeAtMostOncePerIntervalAndAlwaysAtTheEnd) {
  std::FILE* f = std::tmpfile();
  Progress p(f, {.interactive = false, .interval_s = 10});
  p.start(1, 100);
  const auto t0 = Progress::Clock::now();
  using std::chrono::seconds;
  p.update(1, 0, 2.0, 0.1, 500, t0 + seconds(1));    // first: printed
  p.update(2, 0, 1.9, 0.1, 500, t0 + seconds(5));    // too soon
  p.update(50, 0, 1.0, 0.05, 500, t0 + seconds(12)); // printed
  p.message("val loss 0.9");
  p.update(100, 1, 0.5, 0.0, 500, t0 + seconds(13)); // the last: printed
  p.finish();
  const std::string out = captured(f);
  std::fclose(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
  EXPECT_THAT(out, HasSubstr("step 50/100 (50.0%) epoch 0 loss 1.0000 lr 0.05 500 samples/s eta "));
  EXPECT_THAT(out, HasSubstr("val loss 0.9\nstep 100/100 (100.0%)"));
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(Progress, TerminalBarRedrawsInPlaceWithRateAndEta) {
  std::FILE* f = std::tmpfile();
  Progress p(f, {.interactive = true, .bar_width = 10});
  const auto t0 = Progress::Clock::now();
  p.start(1, 10);
  p.update(5, 0, 1.25, 0.001, 640, t0);
  p.message("checkpoint step-5");
  p.finish();
  const std::string out = captured(f);
  std::fclose(f);
  EXPECT_THAT(out, HasSubstr("\r[#####.....] 5/10 epoch 0 loss 1.2500 lr 0.001 640 samples/s eta "));
  EXPECT_THAT(out, HasSubstr("\r\x1b[Kcheckpoint step-5\n[#####"));
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, DurationsReadAsClockTimes) {
  EXPECT_EQ(Progress::format_duration(83), "0:01:23");
  EXPECT_EQ(Progress::format_duration(3 * 86400 + 3723), "3:01:02:03");
  EXPECT_EQ(Progress::format_duration(NAN), "?");
}

}  // namespace
}  // namespace dlt::train
