// Reading layer options from a layer's YAML map, with errors at the value's
// file:line:col ("model[1].out: must be at least 1, got 0").
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "dlt/config/yaml_reader.h"

namespace dlt::nn {

// A required integer >= 1.
int64_t read_positive(const config::Node& spec, std::string_view key);
// An optional integer within [lo, hi].
int64_t read_int(const config::Node& spec, std::string_view key, int64_t fallback, int64_t lo,
                 int64_t hi);
// An optional number within [lo, hi].
double read_double(const config::Node& spec, std::string_view key, double fallback, double lo,
                   double hi);
// The optional `shape:` of a normalisation layer: its normalised trailing
// dims, each >= 1; nullopt when absent or null (the input's last dim).
std::optional<Shape> read_normalized_shape(const config::Node& spec);
// A 2-D size: one integer for both dims or a list of two, each >= `min`;
// required when there is no fallback.
std::array<int64_t, 2> read_pair(const config::Node& spec, std::string_view key, int64_t min);
std::array<int64_t, 2> read_pair(const config::Node& spec, std::string_view key,
                                 std::array<int64_t, 2> fallback, int64_t min);

}  // namespace dlt::nn
