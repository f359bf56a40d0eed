// Indexing ops: embedding, index_select, index_add, gather, scatter_add and
// one_hot. The op layer checks shapes and dtypes; the kernels check the index
// values (they are the ones reading them) and name the bad value and position.
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/norm_backward.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

void check_index(const char* op, const Tensor& index) {
  DLT_CHECK(index.defined(), "{}: undefined index tensor", op);
  DLT_CHECK(index.dtype() == DType::i64 || index.dtype() == DType::i32,
            "{}: the index must be an int64 or int32 tensor, got {}", op, index.dtype());
}

// A 1-D index (a 0-dim one counts as one element).
void check_index_vector(const char* op, const Tensor& index) {
  check_index(op, index);
  DLT_CHECK(index.dim() <= 1, "{}: the index must be a 1-D tensor, got shape {}", op,
            shape_str(index.shape()));
}

Shape with_size(Shape shape, int64_t dim, int64_t size) {
  shape[size_t(dim)] = size;
  return shape;
}

// Runs a one-output op along dimension `dim`.
Tensor run_one(OpId op, std::initializer_list<Tensor> in, Tensor out, int64_t dim) {
  const ops::DimAttrs attrs{dim};
  Tensor outs[] = {std::move(out)};
  ops::run(op, std::span<const Tensor>(in.begin(), in.size()), outs, &attrs);
  return outs[0];
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  DLT_CHECK(weight.defined(), "embedding: undefined weight tensor");
  check_index("embedding", indices);
  DLT_CHECK(weight.dim() == 2, "embedding: weight must be 2-D (num_embeddings, dim), got shape {}",
            shape_str(weight.shape()));
  const int64_t V = weight.size(0);
  DLT_CHECK(padding_idx >= -1 && padding_idx < V,
            "embedding: padding_idx {} is out of range for a weight of {} rows (-1 means none)",
            padding_idx, V);
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  const ops::EmbeddingAttrs attrs{V, padding_idx};
  Tensor ins[] = {weight.contiguous(), indices.contiguous()};
  Tensor outs[] = {empty(shape, like(weight, weight.dtype()))};
  ops::run(OpId::embedding, ins, outs, &attrs);
  return outs[0];
}

namespace ops {
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          int64_t padding_idx) {
  const int64_t C = grad.size(-1);
  const EmbeddingAttrs attrs{num_weights, padding_idx};
  Tensor ins[] = {grad.contiguous().reshape({indices.numel(), C}), indices.contiguous()};
  Tensor outs[] = {empty({num_weights, C}, like(grad, grad.dtype()))};
  run(OpId::embedding_backward, ins, outs, &attrs);
  return outs[0];
}
}  // namespace ops

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  DLT_CHECK(x.defined(), "index_select: undefined input tensor");
  check_index_vector("index_select", index);
  if (x.dim() == 0) {  // a 0-dim input is a 1-element vector here, and stays 0-dim
    DLT_CHECK(index.numel() == 1, "index_select: a 0-dim input takes exactly one index, got {}",
              index.numel());
    return index_select(x.reshape({1}), wrap_dim(dim, 1), index).reshape({});
  }
  const int64_t d = wrap_dim(dim, x.dim(), "index_select dim");
  return run_one(OpId::index_select, {x.contiguous(), index.contiguous()},
                 empty(with_size(x.shape(), d, index.numel()), like(x, x.dtype())), d);
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  DLT_CHECK(x.defined() && src.defined(), "index_add: undefined input tensor");
  check_index_vector("index_add", index);
  DLT_CHECK(x.dim() >= 1, "index_add: expected an input with at least one dimension");
  const int64_t d = wrap_dim(dim, x.dim(), "index_add dim");
  const Shape expected = with_size(x.shape(), d, index.numel());
  DLT_CHECK(src.shape() == expected,
            "index_add: source of shape {} does not match the input's shape {} with dimension {} "
            "of the index's length {} (expected {})",
            shape_str(src.shape()), shape_str(x.shape()), d, index.numel(), shape_str(expected));
  return run_one(OpId::index_add,
                 {x.contiguous(), index.contiguous(), src.to(x.dtype()).contiguous()},
                 empty(x.shape(), like(x, x.dtype())), d);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  DLT_CHECK(x.defined(), "gather: undefined input tensor");
  check_index("gather", index);
  DLT_CHECK(index.dim() == x.dim(),
            "gather: the index (shape {}) must have as many dimensions as the input (shape {})",
            shape_str(index.shape()), shape_str(x.shape()));
  if (x.dim() == 0) return gather(x.reshape({1}), wrap_dim(dim, 1), index.reshape({1})).reshape({});
  const int64_t d = wrap_dim(dim, x.dim(), "gather dim");
  for (int64_t k = 0; k < x.dim(); ++k)
    DLT_CHECK(k == d || index.size(k) <= x.size(k),
              "gather: the index of shape {} is larger than the input of shape {} in dimension {} "
              "(only dimension {} may be larger)",
              shape_str(index.shape()), shape_str(x.shape()), k, d);
  return run_one(OpId::gather, {x, index.contiguous()}, empty(index.shape(), like(x, x.dtype())),
                 d);
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  DLT_CHECK(x.defined() && src.defined(), "scatter_add: undefined input tensor");
  if (const auto c = ops::autocast<2>(OpId::scatter_add, {x, src})) return scatter_add((*c)[0], dim, index, (*c)[1]);
  check_index("scatter_add", index);
  DLT_CHECK(index.dim() == x.dim() && src.dim() == x.dim(),
            "scatter_add: the input (shape {}), index (shape {}) and source (shape {}) must have "
            "the same number of dimensions",
            shape_str(x.shape()), shape_str(index.shape()), shape_str(src.shape()));
  if (x.dim() == 0)
    return scatter_add(x.reshape({1}), wrap_dim(dim, 1), index.reshape({1}), src.reshape({1}))
        .reshape({});
  const int64_t d = wrap_dim(dim, x.dim(), "scatter_add dim");
  for (int64_t k = 0; k < x.dim(); ++k) {
    DLT_CHECK(index.size(k) <= src.size(k),
              "scatter_add: the index of shape {} is larger than the source of shape {} in "
              "dimension {}",
              shape_str(index.shape()), shape_str(src.shape()), k);
    DLT_CHECK(k == d || index.size(k) <= x.size(k),
              "scatter_add: the index of shape {} is larger than the input of shape {} in "
              "dimension {} (only dimension {} may be larger)",
              shape_str(index.shape()), shape_str(x.shape()), k, d);
  }
  return run_one(OpId::scatter_add, {x.contiguous(), index.contiguous(), src.to(x.dtype())},
                 empty(x.shape(), like(x, x.dtype())), d);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  check_index("one_hot", indices);
  DLT_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 (infer) or non-negative, got {}",
            num_classes);
  if (num_classes == -1) {
    DLT_CHECK(indices.numel() > 0,
              "one_hot: cannot infer the number of classes from an empty tensor; pass num_classes");
    num_classes = amax(indices).item<int64_t>() + 1;
  }
  Shape shape = indices.shape();
  shape.push_back(num_classes);
  const ops::OneHotAttrs attrs{num_classes};
  Tensor ins[] = {indices.contiguous()};
  Tensor outs[] = {empty(shape, like(indices, DType::i64))};
  ops::run(OpId::one_hot, ins, outs, &attrs);
  return outs[0];
}

}  // namespace dlt
