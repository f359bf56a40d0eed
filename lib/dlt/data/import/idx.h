// IDX, the file format of MNIST and Fashion-MNIST: a big-endian magic word
// 0x0000TTRR (TT: element type, 0x08 = uint8; RR: rank), RR big-endian
// uint32 dims, then the elements in row-major order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dlt/core/shape.h"

namespace dlt::data {

struct IdxArray {
  Shape shape;
  std::vector<uint8_t> data;
};

// Reads a uint8 IDX file through zlib, so gzipped and plain files both work.
// Missing, truncated or malformed files are user errors naming the path.
IdxArray read_idx(const std::string& path);

}  // namespace dlt::data
