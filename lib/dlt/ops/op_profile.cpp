#include "dlt/ops/op_profile.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dlt/core/device_runtime.h"

namespace dlt::ops {
namespace {

struct OpTotals {
  int64_t calls = 0;
  double seconds = 0;
};

enum class ProfileMode { off, ops, shapes };

ProfileMode profile_mode() {
  static const ProfileMode mode = [] {
    const char* env = std::getenv("DLT_PROFILE_OPS");
    if (!env || !*env || std::string_view(env) == "0") return ProfileMode::off;
    return std::string_view(env) == "shapes" ? ProfileMode::shapes : ProfileMode::ops;
  }();
  return mode;
}

// "matmul [8192, 768] [768, 2304]" or just "matmul".
std::string profile_key(OpId op, std::span<const Tensor> in) {
  return profile_mode() == ProfileMode::shapes ? op_with_shapes(op, in) : std::string(op_name(op));
}

// Printed from a static destructor: the table outlives every caller.
class Profile {
 public:
  void add(std::string key, double seconds) {
    std::lock_guard lock(mu_);
    OpTotals& t = totals_[std::move(key)];
    ++t.calls;
    t.seconds += seconds;
  }
  ~Profile() {
    std::vector<std::pair<double, const std::string*>> order;
    double all = 0;
    for (const auto& [key, t] : totals_) {
      order.emplace_back(t.seconds, &key);
      all += t.seconds;
    }
    if (order.empty()) return;
    std::sort(order.rbegin(), order.rend());
    if (order.size() > 40) order.resize(40);
    fmt::print(stderr, "\nop profile (DLT_PROFILE_OPS): {:.3f} s in kernels\n", all);
    fmt::print(stderr, "{:>10} {:>12} {:>8}  {}\n", "calls", "total ms", "share", "op");
    for (const auto& [seconds, key] : order) {
      const OpTotals& t = totals_.at(*key);
      fmt::print(stderr, "{:>10} {:>12.2f} {:>7.1f}%  {}\n", t.calls, 1e3 * t.seconds,
                 100 * t.seconds / all, *key);
    }
  }

 private:
  std::mutex mu_;
  std::map<std::string, OpTotals> totals_;
};

Profile& profile() {
  static Profile p;
  return p;
}

}  // namespace

bool op_profile_enabled() { return profile_mode() != ProfileMode::off; }

std::string op_with_shapes(OpId op, std::span<const Tensor> in) {
  std::string label = op_name(op);
  for (const Tensor& t : in) {
    label += ' ';
    label += t.defined() ? shape_str(t.shape()) : std::string("-");
  }
  return label;
}

void add_op_time(OpId op, std::span<const Tensor> in, double seconds) {
  profile().add(profile_key(op, in), seconds);
}

void wait_for(Device device) { synchronize(device); }

}  // namespace dlt::ops
