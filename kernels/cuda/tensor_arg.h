// How a tensor crosses from host code (.cpp, which knows dlt::Tensor) into
// kernel sources (.cu, which must not include lib/dlt): a plain struct of
// pointer, dtype code and geometry, passed to launchers by value.
#pragma once

#include <cstdint>

namespace dlt::gpu {

inline constexpr int kMaxDims = 8;

// Same order as dlt::DType (checked by a static_assert in tensor_arg_host.h).
enum class DTypeCode : uint8_t { f32, f64, f16, bf16, i32, i64, u8, boolean };

struct TensorArg {
  void* data = nullptr;
  DTypeCode dtype = DTypeCode::f32;
  int ndim = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in elements
};

}  // namespace dlt::gpu
