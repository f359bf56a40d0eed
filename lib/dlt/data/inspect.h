// A readable summary of an HDF5 file for `dlt data inspect`: the tree of
// groups and datasets with shapes, dtypes, layout, attributes and the first
// few values.
#pragma once

#include <string>

namespace dlt::data {

struct InspectOptions {
  bool attributes = true;
  int values = 8;  // first values shown per dataset; 0: none
};

std::string inspect(const std::string& path, const InspectOptions& options = {});

}  // namespace dlt::data
