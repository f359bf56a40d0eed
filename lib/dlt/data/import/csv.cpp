// dlt data import csv
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dlt/data/import/importers.h"

namespace dlt::data {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One CSV record: cells split on commas outside double quotes ("" is a quote).
std::vector<std::string> split_record(std::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  for (std::string& cell : cells) cell = std::string(trim(cell));
  return cells;
}

bool parse_number(std::string_view cell, double& value) {
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return ec == std::errc() && end == cell.data() + cell.size() && !cell.empty();
}

bool is_whole(double v) {
  return std::isfinite(v) && v == std::floor(v) && std::abs(v) < 0x1p63;
}

}  // namespace

void import_csv(const std::string& path, const std::string& out, const std::string& label,
                const Layout& layout) {
  DLT_CHECK(std::filesystem::exists(path), "{}: no such file", path);
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in.good(), "{}: cannot open", path);

  std::string line;
  int64_t line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) header = split_record(line);
  }
  DLT_CHECK(!header.empty(), "{}: empty file, expected a header row", path);
  const auto label_it = std::find(header.begin(), header.end(), label);
  DLT_CHECK(label_it != header.end(), "{}:{}: no column '{}' (columns: {})", path, line_no, label,
            fmt::join(header, ", "));
  DLT_CHECK(header.size() >= 2, "{}: only the label column '{}'; no features", path, label);
  const size_t label_col = size_t(label_it - header.begin());

  std::vector<float> features;
  std::vector<double> labels;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string> cells = split_record(line);
    DLT_CHECK(cells.size() == header.size(), "{}:{}: {} cells, but the header has {} columns",
              path, line_no, cells.size(), header.size());
    for (size_t c = 0; c < cells.size(); ++c) {
      double v;
      DLT_CHECK(parse_number(cells[c], v), "{}:{}: column {} ('{}'): '{}' is not a number", path,
                line_no, c + 1, header[c], cells[c]);
      if (c == label_col)
        labels.push_back(v);
      else
        features.push_back(float(v));
    }
  }
  const int64_t n = int64_t(labels.size()), f = int64_t(header.size()) - 1;
  DLT_CHECK(n > 0, "{}: no data rows after the header", path);

  H5Writer w(out);
  w.write("features", DType::f32, {n, f}, features.data(), layout);
  if (std::all_of(labels.begin(), labels.end(), is_whole)) {
    const std::vector<int64_t> classes(labels.begin(), labels.end());
    w.write("labels", DType::i64, {n}, classes.data(), layout);
  } else {
    const std::vector<float> values(labels.begin(), labels.end());
    w.write("labels", DType::f32, {n}, values.data(), layout);
  }
  std::vector<std::string> names = header;
  names.erase(names.begin() + long(label_col));
  w.set_attribute("/", "feature_names", names);
  w.set_attribute("/", "label", label);
  w.set_attribute("/", "source", path);
  w.commit();
}

}  // namespace dlt::data
