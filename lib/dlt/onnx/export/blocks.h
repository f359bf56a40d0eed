// Pieces several layer families export through: shape bookkeeping around
// the common nodes, Linear, the normalisations, GELU, and attention.
// Shapes in comments: B batch, T sequence, C channels or features, H heads,
// D head size.
#pragma once

#include <string>
#include <vector>

#include "dlt/onnx/export/context.h"

namespace dlt::nn {
class Linear;
class LayerNorm;
class RMSNorm;
}  // namespace dlt::nn

namespace dlt::onnx_export {

// Elementwise nodes: the output has x's shape.
Value unary(ExportContext& ctx, const std::string& op, const Value& x, Attrs attrs = {});
// A broadcasting binary node (Add, Mul, Sub, Div, Pow, ...): the output has
// the broadcast shape.
Value binary(ExportContext& ctx, const std::string& op, const Value& a, const Value& b);
// MatMul, with numpy's broadcasting of the leading dims.
Value matmul(ExportContext& ctx, const Value& a, const Value& b);
// A floating scalar constant of the model's dtype, as a value of shape [].
Value scalar(ExportContext& ctx, double v);

// Reshape to `target` (ONNX's: 0 copies the dim, -1 infers one), giving the
// shape `out` for the bookkeeping.
Value reshape(ExportContext& ctx, const Value& x, const std::vector<int64_t>& target, Shape out);
Value transpose(ExportContext& ctx, const Value& x, const std::vector<int64_t>& perm);
Value unsqueeze(ExportContext& ctx, const Value& x, const std::vector<int64_t>& axes);
// x's size along `axis` as a 1-D int64 tensor [n], read at run time (Shape, Gather).
std::string runtime_dim(ExportContext& ctx, const Value& x, int64_t axis);
// Rows 0 .. n - 1 of a constant or initializer along `axis`, n read from the
// runtime_dim `n` (a sequence's first T positions).
std::string first_rows(ExportContext& ctx, const std::string& table, const std::string& n,
                       int64_t axis = 0);

// y = x W^T + b: Gemm for (B, in); MatMul with the transposed weight and Add
// for (B, *, in). The weight stays one initializer (out, in): the Transpose
// is a node.
Value linear(ExportContext& ctx, nn::Linear& layer, const Value& x);
// x (B, *, C) times the transpose of the initializer `weight` (V, C): (B, *, V).
Value matmul_transposed(ExportContext& ctx, const Value& x, const std::string& weight,
                        int64_t rows);

// LayerNormalization (opset 17), or its decomposition below 17.
Value layer_norm(ExportContext& ctx, nn::LayerNorm& layer, const Value& x);
// x / sqrt(mean(x^2) + eps) * weight over the trailing dims: no ONNX op before
// opset 23, so decomposed.
Value rms_norm(ExportContext& ctx, nn::RMSNorm& layer, const Value& x);
// 0.5 x (1 + erf(x / sqrt 2)), or with tanh: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
Value gelu(ExportContext& ctx, const Value& x, bool tanh);
Value silu(ExportContext& ctx, const Value& x);  // x sigmoid(x)

// softmax(q k^T / sqrt(D)) v for q (B, H, T, D) and k, v (B, Hkv, T, D),
// Hkv dividing H (each group of H / Hkv query heads shares a key/value head,
// without repeating k and v) -> (B, H, T, D). Causal: scores of future keys
// are -inf, from the constant "causal_mask" (max_len, max_len) cut to T.
// The 1 / sqrt(D) multiplies q when `scale_queries` (as MultiHeadAttention
// does), else the scores (as the grouped attention of Llama does).
Value attention(ExportContext& ctx, const Value& q, const Value& k, const Value& v, bool causal,
                int64_t max_len, bool scale_queries);

}  // namespace dlt::onnx_export
