#include "dlt/core/device_runtime.h"

#include <array>

namespace dlt {
namespace {

std::array<DeviceRuntime*, kNumDeviceTypes>& runtimes() {
  static std::array<DeviceRuntime*, kNumDeviceTypes> table{};
  return table;
}

}  // namespace

void register_device_runtime(DeviceType type, DeviceRuntime* runtime) {
  runtimes()[static_cast<int>(type)] = runtime;
}

DeviceRuntime* device_runtime(DeviceType type) { return runtimes()[static_cast<int>(type)]; }

int device_count(DeviceType type) {
  if (type == DeviceType::cpu) return 1;
  const DeviceRuntime* r = device_runtime(type);
  return r ? r->count() : 0;
}

std::string device_unavailable_reason(DeviceType type) {
  if (const DeviceRuntime* r = device_runtime(type)) return r->why_unavailable();
  return fmt::format("this build has no {} backend (configure with -DDLT_{}=ON)",
                     device_type_name(type), type == DeviceType::hip ? "HIP" : "CUDA");
}

void synchronize(Device device) {
  if (device.is_cpu()) return;
  if (DeviceRuntime* r = device_runtime(device.type)) r->synchronize(device.index);
}

}  // namespace dlt
