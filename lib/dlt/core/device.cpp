#include "dlt/core/device.h"

#include <charconv>

namespace dlt {

std::string_view device_type_name(DeviceType t) {
  switch (t) {
    case DeviceType::cpu: return "cpu";
    case DeviceType::cuda: return "cuda";
    case DeviceType::hip: return "hip";
  }
  return "?";
}

Device Device::parse(std::string_view s) {
  const auto colon = s.find(':');
  const std::string_view kind = s.substr(0, colon);
  int index = 0;
  if (colon != std::string_view::npos) {
    const std::string_view num = s.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), index);
    DLT_CHECK(ec == std::errc() && ptr == num.data() + num.size() && index >= 0,
              "bad device index in '{}' (expected e.g. cuda:0)", s);
  }
  if (kind == "cpu") {
    DLT_CHECK(index == 0, "device '{}': the cpu has only index 0", s);
    return cpu();
  }
  if (kind == "cuda") return cuda(index);
  if (kind == "hip") return hip(index);
  throw Error(fmt::format("unknown device '{}' (expected cpu, cuda, cuda:N, hip or hip:N)", s));
}

std::string Device::str() const {
  if (type == DeviceType::cpu) return "cpu";
  return fmt::format("{}:{}", device_type_name(type), index);
}

}  // namespace dlt
