// dlt report: runs as a table in the terminal, or their curves as a plot.
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/core/error.h"
#include "dlt/train/file_io.h"
#include "dlt/train/report_plot.h"

namespace dlt::cli {

void add_report_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> runs;
    std::string out;
    train::PlotOptions plot;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("report",
                                 "Summarise runs: a table per run in the terminal (steps, time, throughput, best and\n"
                                 "final metrics, the best checkpoint), or with --out their curves overlaid as SVG or PNG.\n"
                                 "Example: dlt report runs/kjv_gpt runs/kjv_gpt-lr3e-3 --out report.svg");
  cmd->add_option("runs", a->runs, "Run folders (with metrics.jsonl)")->required();
  cmd->add_option("--out", a->out, "Write a plot: FILE.svg or FILE.png");
  cmd->add_option("--smooth", a->plot.smooth, "Smoothing of the training curves, in [0, 1) (TensorBoard's)")
      ->check(CLI::Range(0.0, 0.999));
  cmd->add_flag("--log", a->plot.log_y, "Logarithmic y axes");
  cmd->add_option("--width", a->plot.width, "Plot width in pixels")->check(CLI::Range(320, 8000));
  cmd->callback([a] {
    std::vector<train::RunHistory> runs;
    for (const std::string& dir : a->runs) runs.push_back(train::read_run(dir));
    if (a->out.empty()) {
      for (size_t i = 0; i < runs.size(); ++i) fmt::print("{}{}", i ? "\n" : "", train::summary_table(runs[i]));
      return;
    }
    const std::filesystem::path out(a->out);
    if (out.extension() == ".svg")
      train::write_file_atomic(out, train::report_svg(runs, a->plot));
    else if (out.extension() == ".png")
      train::write_report_png(runs, a->plot, out);
    else
      throw dlt::Error(fmt::format("--out {}: the plot is written as .svg or .png", a->out));
    fmt::print("wrote {}\n", out.string());
  });
}

}  // namespace dlt::cli
