// Where a tensor lives. Every tensor carries one from day one, so the CUDA and
// HIP backends slot in behind the dispatch table without touching callers.
#pragma once

#include <string>
#include <string_view>

#include "dlt/core/error.h"

namespace dlt {

enum class DeviceType : uint8_t { cpu, cuda, hip };
inline constexpr int kNumDeviceTypes = 3;

std::string_view device_type_name(DeviceType t);

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  static Device hip(int i = 0) { return {DeviceType::hip, i}; }
  // "cpu", "cuda", "cuda:1", "hip:0".
  static Device parse(std::string_view s);

  bool is_cpu() const { return type == DeviceType::cpu; }
  std::string str() const;
  bool operator==(const Device&) const = default;
};

}  // namespace dlt

template <> struct fmt::formatter<dlt::Device> : fmt::formatter<std::string> {
  auto format(const dlt::Device& d, format_context& ctx) const {
    return fmt::formatter<std::string>::format(d.str(), ctx);
  }
};
