// dlt report: the summary of a run, TensorBoard's smoothing, and the plot:
// the SVG's curves carry exactly metrics.jsonl's values at the positions the
// panel's axes put them; the PNG decodes at its size and is not blank.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cairo.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/report_plot.h"
#include "dlt/train/run_history.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using ::testing::HasSubstr;

// Two short runs of a small classifier, the second at another learning rate.
class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
    const std::string cfg = tmp.path("r.yaml");
    data::testing::write_file(cfg, fmt::format(R"(name: r
data: {{file: {}, train: {{x: train/x, y: train/y}}, val: {{x: val/x, y: val/y}}, batch_size: 8, workers: 1}}
model: [{{type: Linear, out: 16}}, {{type: ReLU}}, {{type: Linear, out: 3}}]
optim: {{name: adamw, lr: 0.01}}
train: {{steps: 30, log_every: 1, eval_every: 5}}
checkpoint: {{every: 10, keep: 1, best: val/accuracy}}
)",
                                               tmp.path("data.h5")));
    for (const auto& [run, lr] : {std::pair{a, "0.01"}, std::pair{b, "0.003"}}) {
      const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --set optim.lr={}", cfg, run.string(), lr));
      ASSERT_EQ(r.status, 0) << r.output;
    }
  }
  TempDir tmp;
  fs::path a = tmp.path("lr-a"), b = tmp.path("lr-b");
};

TEST(ReportSmoothing, IsTensorBoardsDebiasedAverage) {
  const std::vector<double> s = smoothed({1, 2, 3}, 0.5);
  EXPECT_DOUBLE_EQ(s[0], 1);
  EXPECT_DOUBLE_EQ(s[1], 1.25 / 0.75);
  EXPECT_DOUBLE_EQ(s[2], 2.125 / 0.875);
  EXPECT_EQ(smoothed({4, 5}, 0), (std::vector<double>{4, 5}));
}

TEST_F(Report, TheTableNamesBestFinalAndTheBestCheckpoint) {
  const CliResult r = run_dlt(fmt::format("report {} {}", a.string(), b.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("lr-a  ("));
  EXPECT_THAT(r.output, HasSubstr("lr-b  ("));
  EXPECT_THAT(r.output, HasSubstr("steps 30"));
  EXPECT_THAT(r.output, HasSubstr("val/accuracy"));
  EXPECT_THAT(r.output, HasSubstr("best by val/accuracy: step"));
  const RunHistory h = read_run(a);
  ASSERT_TRUE(h.best_step);
  EXPECT_TRUE(h.maximize);
  // The best step is the val record with the highest accuracy.
  const Series& acc = h.series.at("val/accuracy");
  EXPECT_EQ(*std::max_element(acc.values.begin(), acc.values.end()),
            acc.values[size_t(std::find(acc.steps.begin(), acc.steps.end(), *h.best_step) - acc.steps.begin())]);
}

std::vector<double> numbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (double v; in >> v;) out.push_back(v);
  return out;
}

TEST_F(Report, SvgCurvesAreTheMetricsAtTheirAxisPositions) {
  const std::string svg = report_svg({read_run(a), read_run(b)}, {.smooth = 0});
  const std::regex panel_re(
      R"re(<g class="panel" data-metric="([^"]*)" data-log="0" data-x0="([^"]*)" data-x1="([^"]*)" data-y0="([^"]*)" data-y1="([^"]*)" data-left="([^"]*)" data-right="([^"]*)" data-top="([^"]*)" data-bottom="([^"]*)">([\s\S]*?)</g>)re");
  const std::regex curve_re(
      R"re(<polyline [^>]*data-run="([^"]*)" data-series="([^"]*)" data-steps="([^"]*)" data-values="([^"]*)" points="([^"]*)"/>)re");
  std::map<std::pair<std::string, std::string>, std::map<int64_t, double>> want;
  for (const fs::path& run : {a, b})
    for (const Json& r : read_metrics(run / "metrics.jsonl"))
      for (const auto& [k, v] : r.members("r"))
        if (k != "step" && k != "epoch" && k != "split" && k != "time")
          want[{run.filename().string(), r.at("split").as_string("s") + "/" + k}][r.at("step").as_int("s")] =
              v.as_double(k);
  size_t curves = 0;
  for (auto p = std::sregex_iterator(svg.begin(), svg.end(), panel_re); p != std::sregex_iterator(); ++p) {
    const double x0 = std::stod((*p)[2]), x1 = std::stod((*p)[3]), y0 = std::stod((*p)[4]), y1 = std::stod((*p)[5]);
    const double left = std::stod((*p)[6]), right = std::stod((*p)[7]), top = std::stod((*p)[8]),
                 bottom = std::stod((*p)[9]);
    const std::string body = (*p)[10];
    for (auto c = std::sregex_iterator(body.begin(), body.end(), curve_re); c != std::sregex_iterator(); ++c) {
      const auto& expected = want.at({(*c)[1], (*c)[2]});
      const std::vector<double> steps = numbers((*c)[3]), values = numbers((*c)[4]);
      std::string pts = (*c)[5];
      std::replace(pts.begin(), pts.end(), ',', ' ');
      const std::vector<double> xy = numbers(pts);
      ASSERT_EQ(steps.size(), expected.size()) << (*c)[2];
      ASSERT_EQ(xy.size(), 2 * steps.size());
      for (size_t k = 0; k < steps.size(); ++k) {
        EXPECT_EQ(values[k], expected.at(int64_t(steps[k]))) << (*c)[1] << " " << (*c)[2] << " step " << steps[k];
        EXPECT_NEAR(xy[2 * k], left + (steps[k] - x0) / (x1 - x0) * (right - left), 0.01);
        EXPECT_NEAR(xy[2 * k + 1], bottom - (values[k] - y0) / (y1 - y0) * (bottom - top), 0.01);
      }
      ++curves;
    }
  }
  EXPECT_EQ(curves, want.size());  // every series of both runs is drawn once
  EXPECT_THAT(svg, HasSubstr(">lr-a</text>"));  // the legend
}

TEST_F(Report, PngDecodesAtItsSizeAndIsNotBlank) {
  const fs::path png = tmp.path("report.png");
  const CliResult r = run_dlt(fmt::format("report {} {} --out {} --width 800 --log", a.string(), b.string(), png.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  cairo_surface_t* s = cairo_image_surface_create_from_png(png.c_str());
  ASSERT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(s), 800);
  EXPECT_GT(cairo_image_surface_get_height(s), 600);
  const auto* px = reinterpret_cast<const uint32_t*>(cairo_image_surface_get_data(s));
  const int n = cairo_image_surface_get_stride(s) / 4 * cairo_image_surface_get_height(s);
  std::set<uint32_t> colours(px, px + n);
  EXPECT_GT(colours.size(), 10u);  // white, ink, grid and two runs' colours, antialiased
  cairo_surface_destroy(s);
}

TEST_F(Report, BadInputIsOneClearError) {
  const CliResult not_run = run_dlt(fmt::format("report {}", tmp.path("nothing")));
  EXPECT_EQ(not_run.status, 2);
  EXPECT_THAT(not_run.output, HasSubstr("is not a run folder: it has no metrics.jsonl"));
  const CliResult pdf = run_dlt(fmt::format("report {} --out {}", a.string(), tmp.path("r.pdf")));
  EXPECT_EQ(pdf.status, 2);
  EXPECT_THAT(pdf.output, HasSubstr("the plot is written as .svg or .png"));
}

}  // namespace
}  // namespace dlt::train
