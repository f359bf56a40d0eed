// What `dlt export` asks of the ONNX exporter. No ONNX headers here, so the
// CLI can include it.
#pragma once

#include <cstdint>
#include <string>

namespace dlt::onnx_export {

// The opsets the layer mappings are valid for: 13 brings Softmax over one
// axis and axes as inputs (Unsqueeze, Slice), 17 LayerNormalization (below
// 17 a LayerNorm is decomposed); Debian's checker (onnx 1.12) knows no
// opset above 17.
inline constexpr int64_t kMinOpset = 13;
inline constexpr int64_t kMaxOpset = 17;

struct ExportOptions {
  int64_t opset = 17;
  // The graph output's name: "logits" for models trained on logits
  // (cross_entropy, bce_with_logits), "output" otherwise (dlt export's choice).
  std::string output_name = "output";
};

// A dlt::Error saying which opsets export and why, for any other.
void check_opset(int64_t opset);

}  // namespace dlt::onnx_export
