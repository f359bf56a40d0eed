// Printing tensors the way PyTorch does: nested brackets, aligned columns,
// summarised with "..." when large, dtype/grad notes at the end.
#include <sstream>

#include "dlt/core/tensor.h"

namespace dlt {

namespace {

constexpr int64_t kSummariseAbove = 1000;
constexpr int64_t kEdgeItems = 3;

struct Formatter {
  bool floating;
  bool boolean = false;
  bool scientific = false;
  bool integral_valued = true;  // every float is a whole number: print "1."
  int width = 1;

  std::string format(double v) const {
    if (boolean) return v != 0 ? "True" : "False";
    if (!floating) return fmt::format("{}", int64_t(v));
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific) return fmt::format("{:.4e}", v);
    if (integral_valued) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
};

// Element (flat, in logical order) values as doubles, read on the host.
std::vector<double> host_values(const Tensor& t) {
  const Tensor c = t.to(Device::cpu()).contiguous();
  std::vector<double> out(size_t(c.numel()));
  visit_dtype(c.dtype(), [&]<class T>() {
    const T* p = static_cast<const T*>(c.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = double(compute_t<T>(p[i]));
  });
  return out;
}

void print_dim(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t d,
               int64_t offset, const Formatter& f, bool summarise, int indent) {
  const int64_t n = shape[d];
  const int64_t stride = numel_of(Shape(shape.begin() + int64_t(d) + 1, shape.end()));
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarise && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << (d + 1 == shape.size() ? "..., " : fmt::format("...,\n{}", std::string(indent + 1, ' ')));
      i = n - kEdgeItems;
    }
    if (d + 1 == shape.size()) {
      const std::string s = f.format(v[size_t(offset + i)]);
      os << std::string(size_t(std::max<int>(0, f.width - int(s.size()))), ' ') << s;
    } else {
      print_dim(os, v, shape, d + 1, offset + i * stride, f, summarise, indent + 1);
    }
    if (i + 1 < n) {
      // Inner dims: ", "; outer dims: a blank line per level below, then indent.
      if (d + 1 == shape.size()) {
        os << ", ";
      } else {
        os << ',';
        for (size_t k = d + 1; k < shape.size(); ++k) os << '\n';
        for (int k = 0; k <= indent; ++k) os << ' ';
      }
    }
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const std::vector<double> v = host_values(t);
  Formatter f{is_floating(t.dtype()), t.dtype() == DType::boolean};
  double max_abs = 0, min_abs = INFINITY;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    max_abs = std::max(max_abs, std::abs(x));
    if (x != 0) min_abs = std::min(min_abs, std::abs(x));
    if (x != std::floor(x)) f.integral_valued = false;
  }
  if (f.floating && (max_abs >= 1e8 || (min_abs < 1e-4 && min_abs != INFINITY && !f.integral_valued)))
    f.scientific = true;
  for (double x : v) f.width = std::max<int>(f.width, int(f.format(x).size()));
  std::ostringstream body;
  if (t.dim() == 0) {
    body << f.format(v[0]);
  } else {
    print_dim(body, v, t.shape(), 0, 0, f, t.numel() > kSummariseAbove, 7);
  }
  const std::string s = body.str();
  os << "tensor(" << s;
  if (t.dtype() != DType::f32 && t.dtype() != DType::i64 && t.dtype() != DType::boolean)
    os << ", dtype=" << dtype_name(t.dtype());
  if (!t.device().is_cpu()) os << ", device='" << t.device().str() << "'";
  if (t.grad_fn()) os << ", grad_fn";
  else if (t.requires_grad()) os << ", requires_grad=True";
  return os << ')';
}

}  // namespace dlt
