// Shape ops: cat (a kernel), stack, split and chunk (built from views and
// cat), tril and triu.
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

// torch.cat skips 1-D empty tensors whatever the other tensors' shapes are
// (a legacy rule kept for compatibility).
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

Tensor triangle(OpId op, const Tensor& x, int64_t diagonal) {
  DLT_CHECK(x.defined(), "{}: undefined input tensor", ops::op_name(op));
  DLT_CHECK(x.dim() >= 2, "{}: expected a tensor with at least 2 dimensions, got shape {}",
            ops::op_name(op), shape_str(x.shape()));
  const ops::TriAttrs attrs{diagonal};
  Tensor ins[] = {x.contiguous()};
  Tensor outs[] = {empty(x.shape(), TensorOptions(x.dtype()).device(x.device()))};
  ops::run(op, ins, outs, &attrs);
  return outs[0];
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  DLT_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  const Tensor* ref = nullptr;  // the first tensor that takes part in the shape checks
  size_t ref_pos = 0;
  DType dtype = tensors[0].defined() ? tensors[0].dtype() : DType::f32;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DLT_CHECK(t.defined(), "cat: tensor {} is undefined", i);
    DLT_CHECK(t.dim() > 0, "cat: zero-dimensional tensor (at position {}) cannot be concatenated",
              i);
    dtype = promote_types(dtype, t.dtype());
    if (!ref && !skipped_by_cat(t)) {
      ref = &t;
      ref_pos = i;
    }
  }
  if (!ref) {  // only 1-D empty tensors: their concatenation
    ref = &tensors[0];
    ref_pos = 0;
  }
  const int64_t d = wrap_dim(dim, ref->dim(), "cat dim");
  Shape shape = ref->shape();
  shape[size_t(d)] = 0;
  std::vector<Tensor> ins;
  ins.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!skipped_by_cat(t) || ref->dim() == 1) {
      DLT_CHECK(t.dim() == ref->dim(),
                "cat: tensor {} has {} dimensions (shape {}) but tensor {} has {} (shape {})", i,
                t.dim(), shape_str(t.shape()), ref_pos, ref->dim(), shape_str(ref->shape()));
      for (int64_t k = 0; k < t.dim(); ++k)
        DLT_CHECK(k == d || t.size(k) == ref->size(k),
                  "cat: sizes of tensors must match except in dimension {}; tensor {} has shape {} "
                  "but tensor {} has shape {} (dimension {}: {} != {})",
                  d, i, shape_str(t.shape()), ref_pos, shape_str(ref->shape()), k, t.size(k),
                  ref->size(k));
      shape[size_t(d)] += t.size(d);
    }
    // Skipped tensors still go to the kernel (they copy nothing), so that
    // autograd sees every input.
    ins.push_back(t.to(dtype).contiguous());
  }
  const ops::DimAttrs attrs{d};
  Tensor outs[] = {empty(shape, TensorOptions(dtype).device(ref->device()))};
  ops::run(OpId::cat, ins, outs, &attrs);
  return outs[0];
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  DLT_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    DLT_CHECK(tensors[i].defined(), "stack: tensor {} is undefined", i);
    DLT_CHECK(tensors[i].shape() == tensors[0].shape(),
              "stack: expects each tensor to be equal size, but got {} at entry 0 and {} at entry "
              "{}",
              shape_str(tensors[0].shape()), shape_str(tensors[i].shape()), i);
  }
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack dim");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (const Tensor& t : tensors) unsqueezed.push_back(t.unsqueeze(d));
  return cat(unsqueezed, d);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  DLT_CHECK(x.defined(), "split: undefined input tensor");
  DLT_CHECK(x.dim() > 0, "split: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "split dim");
  int64_t total = 0;
  for (int64_t s : sizes) {
    DLT_CHECK(s >= 0, "split: split sizes must be non-negative, got {}", fmt::join(sizes, ", "));
    total += s;
  }
  DLT_CHECK(total == x.size(d),
            "split: split sizes [{}] add up to {} but dimension {} of the input (shape {}) has "
            "size {}",
            fmt::join(sizes, ", "), total, d, shape_str(x.shape()), x.size(d));
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(x.narrow(d, start, s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  DLT_CHECK(x.defined(), "split: undefined input tensor");
  DLT_CHECK(x.dim() > 0, "split: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "split dim");
  const int64_t size = x.size(d);
  DLT_CHECK(split_size > 0 || (split_size == 0 && size == 0),
            "split: split_size must be positive (0 only for a dimension of size 0), got {} for "
            "dimension {} of size {}",
            split_size, d, size);
  // As torch: an empty dimension still gives one (empty) piece.
  const int64_t count = split_size == 0 ? 1 : std::max<int64_t>(1, (size + split_size - 1) / split_size);
  std::vector<int64_t> sizes(size_t(count), split_size);
  sizes.back() = size - split_size * (count - 1);
  return split(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  DLT_CHECK(x.defined(), "chunk: undefined input tensor");
  DLT_CHECK(chunks > 0, "chunk: number of chunks must be positive, got {}", chunks);
  DLT_CHECK(x.dim() > 0, "chunk: expected a tensor with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "chunk dim");
  const int64_t size = x.size(d);
  // As torch: chunks of ceil(size / chunks), so fewer chunks may come back;
  // an empty dimension gives `chunks` empty pieces.
  if (size == 0) return split(x, std::vector<int64_t>(size_t(chunks), 0), d);
  return split(x, (size + chunks - 1) / chunks, d);
}

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(OpId::tril, x, diagonal); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(OpId::triu, x, diagonal); }

}  // namespace dlt
