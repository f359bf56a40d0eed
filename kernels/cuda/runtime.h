// The GPU runtime as the rest of the backend sees it: devices and their
// compute streams. Plain C++ (includable from .cu and .cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/gpu.h"

namespace dlt::gpu {

// Usable devices; 0 when there is no GPU or no driver (see why_unavailable()).
int device_count();
// The runtime's explanation when device_count() is 0, e.g. "CUDA driver
// version is insufficient for CUDA runtime version" (empty otherwise).
std::string why_unavailable();

// Makes `device` current on this thread and returns its one compute stream.
// Every kernel of the backend runs on it, so ops on one device are ordered.
cudaStream_t use_device(int device);

// The device's copy stream: host->device uploads that overlap compute
// (DeviceRuntime::upload_async), ordered against the compute stream by events.
cudaStream_t copy_stream(int device);

// The most dynamic shared memory one block may opt into on `device`: the
// opt-in limit where the runtime reports one (CUDA), else the per-block limit
// (HIP). Asked of the runtime once per device.
size_t max_shared_bytes_per_block(int device);

// Waits for all work queued on the device's compute stream.
void synchronize(int device);

// The compute streams created so far, with their devices (for pinned host
// memory, which must not be reused while a copy queued on one reads it).
std::vector<std::pair<int, cudaStream_t>> created_streams();

}  // namespace dlt::gpu
