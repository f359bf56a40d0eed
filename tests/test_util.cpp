#include "tests/test_util.h"

#include <cmath>

namespace dlt::testing {

std::string compare_close(const std::vector<double>& actual, const std::vector<double>& expected,
                          double rtol, double atol) {
  if (actual.size() != expected.size())
    return fmt::format("size {} != expected size {}", actual.size(), expected.size());
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;  // also equal infinities
    const double err = std::abs(a - e);
    if (!(err <= atol + rtol * std::abs(e))) {
      if (bad++ == 0) first = i;
      worst = std::max(worst, err);
    }
  }
  if (bad == 0) return {};
  return fmt::format("{} of {} elements differ; first at {}: {} vs expected {} (max abs err {:.3g}, "
                     "rtol {}, atol {})",
                     bad, actual.size(), first, actual[first], expected[first], worst, rtol, atol);
}

}  // namespace dlt::testing
