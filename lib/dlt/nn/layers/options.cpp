#include "dlt/nn/layers/options.h"

#include <limits>

#include "dlt/core/error.h"

namespace dlt::nn {

int64_t read_positive(const config::Node& spec, std::string_view key) {
  const config::Node n = spec.at(key);
  const auto v = n.as<int64_t>();
  if (v < 1) n.fail(fmt::format("must be at least 1, got {}", v));
  return v;
}

int64_t read_int(const config::Node& spec, std::string_view key, int64_t fallback, int64_t lo,
                 int64_t hi) {
  const auto n = spec.find(key);
  if (!n || n->is_null()) return fallback;
  const auto v = n->as<int64_t>();
  if (v < lo || v > hi) n->fail(fmt::format("must be between {} and {}, got {}", lo, hi, v));
  return v;
}

double read_double(const config::Node& spec, std::string_view key, double fallback, double lo,
                   double hi) {
  const auto n = spec.find(key);
  if (!n || n->is_null()) return fallback;
  const auto v = n->as<double>();
  if (!(v >= lo && v <= hi)) n->fail(fmt::format("must be between {} and {}, got {}", lo, hi, v));
  return v;
}

static std::array<int64_t, 2> pair_of(const config::Node& n, int64_t min) {
  const Shape v = n.as<Shape>();
  if (v.size() != 1 && v.size() != 2)
    n.fail(fmt::format("expected an integer or a list of two integers, got {}", shape_str(v)));
  const std::array<int64_t, 2> p{v[0], v.back()};
  if (p[0] < min || p[1] < min)
    n.fail(fmt::format("must be at least {}, got {}", min, shape_str(v)));
  return p;
}

std::array<int64_t, 2> read_pair(const config::Node& spec, std::string_view key, int64_t min) {
  return pair_of(spec.at(key), min);
}

std::array<int64_t, 2> read_pair(const config::Node& spec, std::string_view key,
                                 std::array<int64_t, 2> fallback, int64_t min) {
  const auto n = spec.find(key);
  return n && !n->is_null() ? pair_of(*n, min) : fallback;
}

std::optional<Shape> read_normalized_shape(const config::Node& spec) {
  const auto s = spec.find("shape");
  if (!s || s->is_null()) return std::nullopt;
  const Shape shape = s->as<Shape>();
  for (int64_t d : shape)
    if (d < 1) s->fail(fmt::format("dims must be at least 1, got {}", shape_str(shape)));
  return shape;
}

}  // namespace dlt::nn
