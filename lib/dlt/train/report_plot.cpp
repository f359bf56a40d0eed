#include "dlt/train/report_plot.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "dlt/core/error.h"
#include "dlt/train/file_io.h"
#include "dlt/train/xml.h"

namespace dlt::train {

namespace {

struct Color {
  double r, g, b;
  std::string hex() const { return fmt::format("#{:02x}{:02x}{:02x}", int(r * 255), int(g * 255), int(b * 255)); }
};
// Tableau 10: distinguishable for most readers, as TensorBoard's and matplotlib's defaults.
const Color kPalette[] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
                          {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}};
const Color kInk{0.15, 0.15, 0.15}, kGrid{0.88, 0.88, 0.88};

struct Point {
  double x, y;
};

// What the report draws with; SVG and cairo implement it.
class Canvas {
 public:
  virtual ~Canvas() = default;
  virtual void line(Point a, Point b, Color c, double width) = 0;
  // `meta`: extra SVG attributes (the curve's data), ignored by raster output.
  virtual void polyline(const std::vector<Point>& points, Color c, bool dashed, const std::string& meta) = 0;
  virtual void text(Point at, const std::string& s, double size, const char* anchor) = 0;  // start, middle, end
  virtual void group(const std::string& meta) = 0;  // a panel begins (SVG: <g meta>)
  virtual void end_group() = 0;
};


class SvgCanvas final : public Canvas {
 public:
  SvgCanvas(int w, int h) {
    out_ = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"DejaVu Sans, Arial, sans-serif\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
        w, h);
  }
  void line(Point a, Point b, Color c, double width) override {
    out_ += fmt::format("<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"{}\" stroke-width=\"{}\"/>\n",
                        a.x, a.y, b.x, b.y, c.hex(), width);
  }
  void polyline(const std::vector<Point>& points, Color c, bool dashed, const std::string& meta) override {
    std::string p;
    for (const Point& q : points) p += fmt::format("{}{:.2f},{:.2f}", p.empty() ? "" : " ", q.x, q.y);
    out_ += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{} {} points=\"{}\"/>\n", c.hex(),
                        dashed ? " stroke-dasharray=\"5,3\"" : "", meta, p);
  }
  void text(Point at, const std::string& s, double size, const char* anchor) override {
    out_ += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\">{}</text>\n", at.x,
                        at.y, size, anchor, kInk.hex(), xml_escape(s));
  }
  void group(const std::string& meta) override { out_ += fmt::format("<g {}>\n", meta); }
  void end_group() override { out_ += "</g>\n"; }
  std::string finish() { return out_ + "</svg>\n"; }

 private:
  std::string out_;
};

class CairoCanvas final : public Canvas {
 public:
  CairoCanvas(int w, int h)
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy),
        cr_(cairo_create(surface_.get()), cairo_destroy) {
    cairo_set_source_rgb(cr_.get(), 1, 1, 1);
    cairo_paint(cr_.get());
    cairo_select_font_face(cr_.get(), "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }
  void line(Point a, Point b, Color c, double width) override {
    cairo_set_source_rgb(cr_.get(), c.r, c.g, c.b);
    cairo_set_line_width(cr_.get(), width);
    cairo_set_dash(cr_.get(), nullptr, 0, 0);
    cairo_move_to(cr_.get(), a.x, a.y);
    cairo_line_to(cr_.get(), b.x, b.y);
    cairo_stroke(cr_.get());
  }
  void polyline(const std::vector<Point>& points, Color c, bool dashed, const std::string&) override {
    if (points.empty()) return;
    const double dash[] = {5, 3};
    cairo_set_source_rgb(cr_.get(), c.r, c.g, c.b);
    cairo_set_line_width(cr_.get(), 1.5);
    cairo_set_dash(cr_.get(), dashed ? dash : nullptr, dashed ? 2 : 0, 0);
    cairo_move_to(cr_.get(), points[0].x, points[0].y);
    for (const Point& p : points) cairo_line_to(cr_.get(), p.x, p.y);
    cairo_stroke(cr_.get());
  }
  void text(Point at, const std::string& s, double size, const char* anchor) override {
    cairo_set_source_rgb(cr_.get(), kInk.r, kInk.g, kInk.b);
    cairo_set_font_size(cr_.get(), size);
    cairo_text_extents_t e;
    cairo_text_extents(cr_.get(), s.c_str(), &e);
    const double shift = std::string(anchor) == "middle" ? e.x_advance / 2 : std::string(anchor) == "end" ? e.x_advance : 0;
    cairo_move_to(cr_.get(), at.x - shift, at.y);
    cairo_show_text(cr_.get(), s.c_str());
  }
  void group(const std::string&) override {}
  void end_group() override {}
  void write(const std::filesystem::path& out) {
    const cairo_status_t st = cairo_surface_write_to_png(surface_.get(), out.c_str());
    DLT_CHECK(st == CAIRO_STATUS_SUCCESS, "cannot write {}: {}", out.string(), cairo_status_to_string(st));
  }

 private:
  std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> surface_;
  std::unique_ptr<cairo_t, void (*)(cairo_t*)> cr_;
};

// Panels by metric: "loss" holds train/loss and val/loss; lr comes last.
std::vector<std::pair<std::string, std::vector<std::string>>> panels(const std::vector<RunHistory>& runs) {
  std::map<std::string, std::set<std::string>> by_metric;
  for (const RunHistory& r : runs)
    for (const auto& [name, s] : r.series) by_metric[name.substr(name.find('/') + 1)].insert(name);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const char* first : {"loss", "accuracy", "perplexity"})
    if (by_metric.count(first)) out.emplace_back(first, std::vector<std::string>(by_metric[first].begin(), by_metric[first].end()));
  for (const auto& [metric, names] : by_metric)
    if (metric != "loss" && metric != "accuracy" && metric != "perplexity" && metric != "lr")
      out.emplace_back(metric, std::vector<std::string>(names.begin(), names.end()));
  if (by_metric.count("lr")) out.emplace_back("lr", std::vector<std::string>(by_metric["lr"].begin(), by_metric["lr"].end()));
  return out;
}

std::string number(double v) { return fmt::format("{:.4g}", v); }

constexpr double kPanelHeight = 240, kLeft = 80, kRight = 24, kTop = 56, kPanelGap = 16;

int figure_height(size_t n_panels) { return int(kTop + double(n_panels) * (kPanelHeight + kPanelGap) + 8); }

void draw(Canvas& c, const std::vector<RunHistory>& runs, const PlotOptions& o) {
  const auto layout = panels(runs);
  DLT_CHECK(!layout.empty(), "the runs have no metrics to plot");
  const double W = o.width;
  // Legend: one colour per run, line style per split.
  double x = kLeft;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Color col = kPalette[i % std::size(kPalette)];
    c.line({x, 22}, {x + 24, 22}, col, 3);
    c.text({x + 30, 26}, runs[i].name, 12, "start");
    x += 40 + 7.5 * double(runs[i].name.size());
  }
  c.text({W - kRight, 26}, fmt::format("solid: train (smoothing {:g}), dashed: val", o.smooth), 11, "end");

  for (size_t p = 0; p < layout.size(); ++p) {
    const auto& [metric, names] = layout[p];
    const double top = kTop + double(p) * (kPanelHeight + kPanelGap), bottom = top + kPanelHeight - 36;
    const double left = kLeft, right = W - kRight;
    // Ranges over every run's curves, after smoothing.
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    std::vector<std::tuple<size_t, std::string, std::vector<int64_t>, std::vector<double>>> curves;
    for (size_t i = 0; i < runs.size(); ++i)
      for (const std::string& name : names) {
        const auto it = runs[i].series.find(name);
        if (it == runs[i].series.end() || it->second.steps.empty()) continue;
        const bool train = name.starts_with("train/") && metric != "lr";
        std::vector<double> v = train ? smoothed(it->second.values, o.smooth) : it->second.values;
        for (size_t k = 0; k < v.size(); ++k) {
          if (!std::isfinite(v[k]) || (o.log_y && v[k] <= 0)) continue;
          x0 = std::min(x0, double(it->second.steps[k]));
          x1 = std::max(x1, double(it->second.steps[k]));
          y0 = std::min(y0, v[k]);
          y1 = std::max(y1, v[k]);
        }
        curves.emplace_back(i, name, it->second.steps, std::move(v));
      }
    if (curves.empty() || !std::isfinite(x0)) continue;
    const bool log = o.log_y && y0 > 0;
    auto ty = [&](double v) { return log ? std::log10(v) : v; };
    double a = ty(y0), b = ty(y1);
    if (b - a < 1e-12) a -= 0.5, b += 0.5;
    const double pad = 0.05 * (b - a);
    a -= pad, b += pad;
    if (x1 - x0 < 1) x0 -= 0.5, x1 += 0.5;
    auto X = [&](double s) { return left + (s - x0) / (x1 - x0) * (right - left); };
    auto Y = [&](double v) { return bottom - (ty(v) - a) / (b - a) * (bottom - top); };

    c.group(fmt::format("class=\"panel\" data-metric=\"{}\" data-log=\"{}\" data-x0=\"{:.17g}\" data-x1=\"{:.17g}\" "
                        "data-y0=\"{:.17g}\" data-y1=\"{:.17g}\" data-left=\"{}\" data-right=\"{}\" data-top=\"{}\" "
                        "data-bottom=\"{}\"",
                        xml_escape(metric), log ? 1 : 0, x0, x1, a, b, left, right, top, bottom));
    for (int t = 0; t <= 4; ++t) {  // grid and tick labels
      const double fy = a + (b - a) * t / 4, py = bottom - (bottom - top) * t / 4;
      c.line({left, py}, {right, py}, kGrid, 1);
      c.text({left - 6, py + 4}, number(log ? std::pow(10, fy) : fy), 10, "end");
      const double fx = x0 + (x1 - x0) * t / 4, px = left + (right - left) * t / 4;
      c.line({px, top}, {px, bottom}, kGrid, 1);
      c.text({px, bottom + 16}, number(std::round(fx)), 10, "middle");
    }
    c.line({left, bottom}, {right, bottom}, kInk, 1);
    c.line({left, top}, {left, bottom}, kInk, 1);
    c.text({left, top - 6}, metric + (log ? " (log scale)" : ""), 13, "start");
    c.text({right, bottom + 30}, "step", 11, "end");
    for (const auto& [run, name, steps, v] : curves) {
      std::vector<Point> pts;
      std::string ds, vs;
      for (size_t k = 0; k < v.size(); ++k) {
        if (!std::isfinite(v[k]) || (log && v[k] <= 0)) continue;
        pts.push_back({X(double(steps[k])), Y(v[k])});
        ds += fmt::format("{}{}", ds.empty() ? "" : " ", steps[k]);
        vs += fmt::format("{}{:.17g}", vs.empty() ? "" : " ", v[k]);
      }
      c.polyline(pts, kPalette[run % std::size(kPalette)], name.starts_with("val/"),
                 fmt::format("class=\"curve\" data-run=\"{}\" data-series=\"{}\" data-steps=\"{}\" data-values=\"{}\"",
                             xml_escape(runs[run].name), xml_escape(name), ds, vs));
    }
    c.end_group();
  }
}

}  // namespace

std::string report_svg(const std::vector<RunHistory>& runs, const PlotOptions& o) {
  SvgCanvas svg(o.width, figure_height(panels(runs).size()));
  draw(svg, runs, o);
  return svg.finish();
}

void write_report_png(const std::vector<RunHistory>& runs, const PlotOptions& o, const std::filesystem::path& out) {
  CairoCanvas png(o.width, figure_height(panels(runs).size()));
  draw(png, runs, o);
  png.write(out);
}

}  // namespace dlt::train
