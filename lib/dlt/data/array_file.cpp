#include "dlt/data/array_file.h"

#include "dlt/data/h5.h"
#include "dlt/data/h5_writer.h"
#include "dlt/data/npy.h"

namespace dlt::data {

Tensor read_array_file(const std::string& spec) {
  if (spec.ends_with(".npy")) return read_npy(spec);
  std::string path = spec, key;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && spec.find(".h5") < colon) {
    path = spec.substr(0, colon);
    key = spec.substr(colon + 1);
  }
  DLT_CHECK(path.ends_with(".h5") || path.ends_with(".hdf5"),
            "{}: expected a .npy file or an HDF5 file (.h5[:key])", spec);
  const auto file = h5::open_file(path);
  if (key.empty()) {
    const auto keys = h5::list_datasets(*file);
    DLT_CHECK(keys.size() == 1, "{}: the file has {} datasets ({}); name one as {}:KEY", spec,
              keys.size(), fmt::join(keys, ", "), path);
    key = keys[0];
  }
  const auto dataset = h5::open_dataset(*file, key);
  const auto info = h5::describe(*file, dataset.get(), key);
  DLT_CHECK(info.supported, "{}: dataset '{}' has type {}, which dlt has no tensors of", spec, key,
            info.type_name);
  Tensor t = empty(info.shape, info.dtype);
  if (t.numel() > 0) {
    const int64_t rows = info.shape.empty() ? 1 : info.shape[0];
    h5::read_rows(*file, dataset.get(), key, info.shape, info.dtype, 0, rows, t.raw_data());
  }
  return t;
}

void write_array_file(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& arrays) {
  if (path.ends_with(".npy")) {
    DLT_CHECK(arrays.size() == 1, "{}: {} arrays do not fit one .npy file; write them to an .h5 file",
              path, arrays.size());
    write_npy(path, arrays[0].second);
    return;
  }
  H5Writer writer(path);
  for (const auto& [name, t] : arrays) {
    const Tensor host = t.detach().to(Device::cpu()).contiguous();
    writer.write(name, host.dtype(), host.shape(), host.raw_data());
  }
  writer.commit();
}

}  // namespace dlt::data
