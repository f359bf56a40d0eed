// Plots of runs for `dlt report --out`: one panel per metric against step
// (train solid, val dashed; the training and validation loss share a
// panel), the learning rate on its own panel last, every run in its own
// colour with a legend. The same drawing goes to SVG, written directly so it
// is deterministic and its points can be checked (each curve carries its
// steps and plotted values as data-* attributes), or to PNG through cairo.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dlt/train/run_history.h"

namespace dlt::train {

struct PlotOptions {
  double smooth = 0.6;  // TensorBoard's default; the training curves only
  bool log_y = false;   // logarithmic y axes (panels whose values are all > 0)
  int width = 960;      // pixels; panels are 240 high
};

std::string report_svg(const std::vector<RunHistory>& runs, const PlotOptions& options);
void write_report_png(const std::vector<RunHistory>& runs, const PlotOptions& options,
                      const std::filesystem::path& out);

}  // namespace dlt::train
