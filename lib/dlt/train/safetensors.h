// safetensors files (https://github.com/huggingface/safetensors), the
// format PyTorch users load checkpoints from:
//
//   [8 bytes: N, little-endian u64][N bytes: JSON header][raw tensor data]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} (byte offsets into the data that follows the header), plus
// an optional "__metadata__" map of strings. dlt writes the tensors sorted by
// name, packed one after another, and pads the header with spaces to a
// multiple of 8 bytes, as the reference implementation does.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "dlt/core/tensor.h"
#include "dlt/train/checksum.h"

namespace dlt::train {

using TensorMap = std::map<std::string, Tensor>;
using StringMap = std::map<std::string, std::string>;

struct SafetensorsFile {
  TensorMap tensors;  // CPU tensors, contiguous
  StringMap metadata;
};

// Writes `tensors` (any device, any layout: copied to contiguous CPU memory)
// to `path`. Names must be non-empty and not "__metadata__"; an undefined
// tensor is an error naming it. The file is synced to disk before returning;
// the result is its size and CRC-32.
FileChecksum save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const StringMap& metadata = {});

// Reads and checks a whole file. Anything malformed (a truncated file, a
// header length past the end, bad JSON, an unknown dtype, a shape that does
// not match its byte range, offsets out of range, overlapping or leaving
// gaps, bool bytes other than 0 and 1) is a dlt::Error that names the file
// and what is wrong.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// "F32", "BF16", "BOOL", ... and back (an unknown name throws).
std::string_view safetensors_dtype(DType t);

}  // namespace dlt::train
