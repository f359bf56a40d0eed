// Whole arrays in files, as `dlt onnx run` reads its inputs and writes its
// outputs: NumPy .npy files and HDF5 datasets.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::data {

// "x.npy", "x.h5" (a file with one dataset) or "x.h5:group/key": the whole
// array on the CPU. Other names, several datasets without a key, and dtypes
// dlt has no tensors of are dlt::Errors naming the file.
Tensor read_array_file(const std::string& spec);

// One array to "y.npy", or any number to "y.h5" as a dataset per name
// (written through a partial file, so a failure leaves none).
void write_array_file(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& arrays);

}  // namespace dlt::data
