#include "dlt/dist/process_group.h"

#include <chrono>
#include <thread>

namespace dlt::dist {

std::string_view reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

double poll_until(const std::function<bool()>& done, double timeout_s,
                  const std::function<void(double waited)>& on_timeout, const std::function<void()>& check) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto waited = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  for (int64_t polls = 0; !done(); ++polls) {
    if (polls < 20000) continue;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (check) check();
    if (const double w = waited(); w > timeout_s) on_timeout(w);
  }
  return waited();
}

}  // namespace dlt::dist
