#include "dlt/onnx/import/padding.h"

#include "dlt/ops/ops.h"

namespace dlt::onnx_import {

Tensor index_tensor(const std::vector<int64_t>& indices, Device device) {
  return from_blob(indices.data(), {static_cast<int64_t>(indices.size())}, DType::i64).to(device);
}

namespace {

// The source index of output position i of a dim of size n padded by `begin`.
int64_t source_index(int64_t i, int64_t n, int64_t begin, const std::string& mode) {
  int64_t s = i - begin;
  if (mode == "edge") return std::clamp<int64_t>(s, 0, n - 1);
  if (mode == "wrap") return ((s % n) + n) % n;
  // reflect: mirror without repeating the edge (numpy's "reflect").
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  s = ((s % period) + period) % period;
  return s < n ? s : period - s;
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& begins, const std::vector<int64_t>& ends,
           const std::string& mode, double value) {
  DLT_CHECK(begins.size() == static_cast<size_t>(x.dim()) && ends.size() == begins.size(),
            "pad: {} begins and {} ends for a tensor of rank {}", begins.size(), ends.size(), x.dim());
  DLT_CHECK(mode == "constant" || mode == "edge" || mode == "reflect" || mode == "wrap",
            "pad: mode must be constant, edge, reflect or wrap, got '{}'", mode);
  // Negative pads crop first.
  Tensor y = x;
  std::vector<int64_t> b = begins, e = ends;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t cb = std::max<int64_t>(-b[d], 0), ce = std::max<int64_t>(-e[d], 0);
    if (cb || ce) {
      DLT_CHECK(cb + ce <= y.size(d), "pad: cropping {} + {} from a dim of size {}", cb, ce, y.size(d));
      y = y.narrow(d, cb, y.size(d) - cb - ce);
    }
    b[d] = std::max<int64_t>(b[d], 0);
    e[d] = std::max<int64_t>(e[d], 0);
  }
  if (mode == "constant") {
    Shape shape = y.shape();
    for (int64_t d = 0; d < y.dim(); ++d) shape[d] += b[d] + e[d];
    Tensor out = full(shape, Scalar(value), TensorOptions(y.dtype()).device(y.device()));
    Tensor inner = out;
    for (int64_t d = 0; d < y.dim(); ++d) inner = inner.narrow(d, b[d], y.size(d));
    inner.copy_(y);
    return out;
  }
  for (int64_t d = 0; d < y.dim(); ++d) {
    if (!b[d] && !e[d]) continue;
    const int64_t n = y.size(d);
    DLT_CHECK(n > 0, "pad: mode {} on an empty dim", mode);
    std::vector<int64_t> idx(static_cast<size_t>(n + b[d] + e[d]));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = source_index(static_cast<int64_t>(i), n, b[d], mode);
    y = index_select(y, d, index_tensor(idx, y.device()));
  }
  return y;
}

}  // namespace dlt::onnx_import
