// NumPy .npy files (format versions 1-3, C order, little-endian): the
// float32/float64/float16/int32/int64/uint8/bool arrays dlt has tensors of.
#pragma once

#include <string>

#include "dlt/core/tensor.h"

namespace dlt::data {

// A missing file, a bad header, Fortran order, big-endian data or a dtype dlt
// has no tensors of is a dlt::Error naming the file.
Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

}  // namespace dlt::data
