// Kernels that only move elements (indexing, concatenation, masks) see them
// as unsigned words of the element's size: one instantiation per size serves
// every dtype, and a zero word is 0 in every dtype.
#pragma once

#include <cstdint>

#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// Calls f.template operator()<W>() with W the unsigned word of the dtype's size.
template <class F> void visit_word(DTypeCode code, F&& f) {
  switch (code) {
    case DTypeCode::u8:
    case DTypeCode::boolean: return f.template operator()<uint8_t>();
    case DTypeCode::f16:
    case DTypeCode::bf16: return f.template operator()<uint16_t>();
    case DTypeCode::f32:
    case DTypeCode::i32: return f.template operator()<uint32_t>();
    case DTypeCode::f64:
    case DTypeCode::i64: return f.template operator()<uint64_t>();
  }
}

}  // namespace dlt::gpu
