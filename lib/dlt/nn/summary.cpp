#include "dlt/nn/summary.h"

#include <algorithm>

#include "dlt/nn/module.h"

namespace dlt::nn {

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string summarize(const std::vector<SummaryRow>& rows, const Shape& input_shape,
                      const Module& model) {
  struct Line {
    std::string path, type, shape, params, options;
  };
  std::vector<Line> lines{{"layer", "type", "output", "params", "options"},
                          {"input", "", shape_str(input_shape), "", ""}};
  for (const SummaryRow& r : rows)
    lines.push_back({std::string(size_t(2 * r.depth), ' ') + r.path, r.type,
                     shape_str(r.output_shape), thousands(r.parameters), r.options});
  size_t w_path = 0, w_type = 0, w_shape = 0, w_params = 0;
  for (const Line& l : lines) {
    w_path = std::max(w_path, l.path.size());
    w_type = std::max(w_type, l.type.size());
    w_shape = std::max(w_shape, l.shape.size());
    w_params = std::max(w_params, l.params.size());
  }
  std::string out;
  for (const Line& l : lines) {
    std::string line = fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>{}}  {}", l.path, w_path, l.type,
                                   w_type, l.shape, w_shape, l.params, w_params, l.options);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  out += fmt::format("total parameters: {}\n", thousands(model.num_parameters()));
  return out;
}

}  // namespace dlt::nn
