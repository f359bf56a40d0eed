// The model summary `dlt validate` prints: one row per layer with its config
// path, type, options, per-sample output shape and parameter count. The
// registry fills the rows while it builds (BuildContext::summary), parents
// before their children.
#pragma once

#include <string>
#include <vector>

#include "dlt/core/shape.h"

namespace dlt::nn {

class Module;

struct SummaryRow {
  std::string path;     // in the config: "model[2]", "model[3].body[0]"
  std::string type;     // "Linear"
  std::string options;  // Module::describe(): "in=784, out=512, bias=true"
  Shape output_shape;   // per sample
  int64_t parameters = 0;  // including the layer's children
  int depth = 0;           // nesting: children of a Residual have depth 1
};

// A table of the rows under a line for the input shape, ending with the
// model's total parameter count:
//   layer       type     output       params  options
//   input                [1, 28, 28]
//   model[0]    Flatten  [784]             0  start_dim=1, end_dim=-1
//   ...
//   total parameters: 535,818
std::string summarize(const std::vector<SummaryRow>& rows, const Shape& input_shape,
                      const Module& model);

// 535818 -> "535,818"
std::string thousands(int64_t n);

}  // namespace dlt::nn
