// `dlt train --profile`: a Chrome trace of the chosen steps whose ranges
// nest on every thread, with steps, layers, backward nodes, ops and their
// shapes, data waits and the optimizer; nothing from the other steps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "dlt/core/trace.h"
#include "dlt/train/file_io.h"
#include "dlt/train/json.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

using data::testing::TempDir;
using dlt::testing::run_dlt;
using ::testing::HasSubstr;

struct Range {
  std::string cat, name;
  double ts, dur;
};

std::vector<std::pair<int64_t, Range>> ranges_of(const std::string& json) {
  std::vector<std::pair<int64_t, Range>> out;
  const Json doc = parse_json(json);  // the loop's range must not outlive it
  for (const Json& e : doc.at("traceEvents").items("traceEvents")) {
    if (e.at("ph").as_string("ph") != "X") continue;
    out.push_back({e.at("tid").as_int("tid"), {e.at("cat").as_string("cat"), e.at("name").as_string("name"),
                                               e.at("ts").as_double("ts"), e.at("dur").as_double("dur")}});
  }
  return out;
}

// On each thread, a range starts after the previous one ended or ends within it.
void expect_nested(std::vector<std::pair<int64_t, Range>> events) {
  std::map<int64_t, std::vector<Range>> by_thread;
  for (auto& [tid, r] : events) by_thread[tid].push_back(r);
  for (auto& [tid, rs] : by_thread) {
    std::sort(rs.begin(), rs.end(), [](const Range& a, const Range& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.dur > b.dur;  // outer first
    });
    std::vector<double> open_ends;
    for (const Range& r : rs) {
      while (!open_ends.empty() && r.ts >= open_ends.back()) open_ends.pop_back();
      if (!open_ends.empty()) {
        EXPECT_LE(r.ts + r.dur, open_ends.back() + 1e-3) << r.cat << " " << r.name << " crosses its parent";
      }
      open_ends.push_back(r.ts + r.dur);
    }
  }
}

struct TableRow {
  int64_t calls = 0;
  double ms = -1;
};

// The row of `op` in an op table ("  calls  total ms  share  op").
TableRow table_row(const std::string& table, const std::string& op) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    TableRow row;
    std::string share, name;
    if (fields >> row.calls >> row.ms >> share >> name && name == op) return row;
  }
  return {};
}

TEST(Profile, RecordsNothingUntilStarted) {
  EXPECT_FALSE(trace::recording());
  { const trace::Scope s("op", "unseen"); }
  trace::start();
  {
    const trace::Scope outer("step", "step 1");
    const trace::Scope inner("op", [] { return std::string("matmul [2, 3] [3, 4]"); });
  }
  const auto events = ranges_of(trace::stop().chrome_json);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(trace::recording());
  expect_nested(events);
}

// The table is made from the trace's own op ranges: the same calls, the same time.
TEST(Profile, TheOpTableSumsTheTracedOps) {
  trace::start();
  for (int i = 0; i < 3; ++i) {
    const trace::OpScope op("matmul", Device::cpu(), [&] { return fmt::format("matmul [{}]", i); });
  }
  { const trace::OpScope op("relu", Device::cpu(), [] { return std::string("relu [4]"); }); }
  const trace::Recorded r = trace::stop();
  const auto events = ranges_of(r.chrome_json);
  ASSERT_EQ(events.size(), 4u);
  double matmul_us = 0;
  for (const auto& [tid, e] : events)
    if (e.name.starts_with("matmul")) matmul_us += e.dur;
  EXPECT_THAT(r.op_table, HasSubstr("ops of the profiled steps"));
  const auto matmul = table_row(r.op_table, "matmul"), relu = table_row(r.op_table, "relu");
  EXPECT_EQ(matmul.calls, 3);
  EXPECT_NEAR(matmul.ms, matmul_us / 1e3, 0.01);
  EXPECT_EQ(relu.calls, 1);
  EXPECT_TRUE(trace::stop().op_table.empty());  // forgotten
}

TEST(Profile, ATrainRunTracesTheChosenSteps) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  data::testing::write_file(tmp.path("p.yaml"), fmt::format(R"(name: p
data: {{file: {}, train: {{x: train/x, y: train/y}}, batch_size: 8, workers: 1}}
model: [{{type: Linear, out: 16}}, {{type: ReLU}}, {{type: Linear, out: 3}}]
optim: {{name: adamw, lr: 0.01}}
train: {{steps: 6, log_every: 1}}
)",
                                                           tmp.path("data.h5")));
  const std::string trace_file = tmp.path("trace.json");
  const auto r = run_dlt(fmt::format("train {} --run-dir {} --profile {} --profile-steps 2:3", tmp.path("p.yaml"),
                                     tmp.path("run"), trace_file));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("profile of steps 2 to 3 written to"));
  const auto events = ranges_of(read_file(trace_file));
  // The table printed with it counts the same linear calls as the trace.
  const auto linear_calls = std::count_if(events.begin(), events.end(), [](const auto& e) {
    return e.second.cat == "op" && e.second.name.starts_with("linear ");
  });
  EXPECT_EQ(linear_calls, 4);  // 2 steps x 2 layers
  EXPECT_THAT(r.output, ::testing::ContainsRegex(" 4 +[0-9.]+ +[0-9.]+% +linear\n"));
  std::map<std::string, std::vector<std::string>> by_cat;
  for (const auto& [tid, e] : events) by_cat[e.cat].push_back(e.name);
  EXPECT_EQ(by_cat["step"], (std::vector<std::string>{"step 2", "step 3"}));
  EXPECT_THAT(by_cat["forward"], ::testing::Contains("Linear"));
  EXPECT_THAT(by_cat["forward"], ::testing::Contains("loss"));
  EXPECT_THAT(by_cat["op"], ::testing::Contains("linear [8, 6] [16, 6] [16]"));
  EXPECT_THAT(by_cat["backward"], ::testing::Contains("backward pass"));
  EXPECT_EQ(by_cat["optimizer"].size(), 2u);
  EXPECT_FALSE(by_cat["data"].empty());
  expect_nested(events);
}

TEST(Profile, BadStepsAreAnError) {
  const auto r = run_dlt("train nothing.yaml --profile t.json --profile-steps 5:2");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.output, HasSubstr("--profile-steps 5:2: expected A:B with 1 <= A <= B"));
}

}  // namespace
}  // namespace dlt::train
