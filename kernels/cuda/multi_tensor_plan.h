// The host side of multi-tensor launches (PyTorch's multi_tensor_apply): a
// list of tensors is cut into chunks of `chunk` elements, and each launch
// takes up to `max_tensors` tensors and `max_blocks` chunks, one block per
// chunk, so its table of pointers and (tensor, chunk) pairs fits in the
// kernel's parameters. A tensor whose chunks do not fit in one launch goes on
// in the next. Empty tensors get no block. Plain C++: unit-tested in every build.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dlt::gpu {

struct MultiTensorBlock {
  int slot;       // index into the launch's `tensors`
  int64_t chunk;  // elements [chunk * chunk_size, min((chunk + 1) * chunk_size, numel))
};

struct MultiTensorLaunch {
  std::vector<int64_t> tensors;  // indices into the caller's list, ascending
  std::vector<MultiTensorBlock> blocks;
};

// Launches covering every element of tensors of these sizes, in list order.
inline std::vector<MultiTensorLaunch> plan_multi_tensor(std::span<const int64_t> sizes,
                                                        int max_tensors, int max_blocks,
                                                        int64_t chunk) {
  std::vector<MultiTensorLaunch> launches;
  MultiTensorLaunch current;
  const auto flush = [&] {
    launches.push_back(std::move(current));
    current = {};
  };
  for (size_t t = 0; t < sizes.size(); ++t) {
    const int64_t chunks = (sizes[t] + chunk - 1) / chunk;
    for (int64_t c = 0; c < chunks; ++c) {
      if (current.tensors.empty() || current.tensors.back() != int64_t(t)) {
        if (int(current.tensors.size()) == max_tensors) flush();
        current.tensors.push_back(int64_t(t));
      }
      current.blocks.push_back({int(current.tensors.size()) - 1, c});
      if (int(current.blocks.size()) == max_blocks) flush();
    }
  }
  if (!current.blocks.empty()) flush();
  return launches;
}

}  // namespace dlt::gpu
