// Tensor: a cheap handle (shared impl) to storage + dtype + shape + strides +
// offset + device, plus autograd metadata. Copies of a handle alias the same
// tensor; views share storage. Methods that compute are defined by the op
// layer (lib/dlt/ops); this header only names them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "dlt/core/device.h"
#include "dlt/core/dtype.h"
#include "dlt/core/scalar.h"
#include "dlt/core/shape.h"
#include "dlt/core/storage.h"

namespace dlt {

namespace autograd {
class Node;
}

struct TensorImpl;

// dtype / device / requires_grad for factories: zeros({2, 3}, TensorOptions().dtype(DType::f64)).
struct TensorOptions {
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
  TensorOptions() = default;
  TensorOptions(DType t) : dtype_(t) {}    // NOLINT: zeros(shape, DType::f64)
  TensorOptions(Device d) : device_(d) {}  // NOLINT
  TensorOptions dtype(DType t) const { auto o = *this; o.dtype_ = t; return o; }
  TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r = true) const { auto o = *this; o.requires_grad_ = r; return o; }
};

using GradHook = std::function<std::optional<class Tensor>(const class Tensor&)>;

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata -----------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const;
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t stride(int64_t d) const;
  int64_t offset() const;  // storage offset, in elements
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  size_t element_size() const { return dtype_size(dtype()); }
  bool is_contiguous() const;
  bool is_view() const;
  const Storage& storage() const;
  uint32_t version() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  std::string str() const;  // "tensor of shape [2, 3], float32, cpu"

  // Memory of the first element. Only kernels (kernels/<device>/) may
  // dereference it; everyone else goes through item() or to(Device::cpu()).
  void* raw_data() const;
  template <class T> T* data_ptr() const {
    DLT_ASSERT(dtype_of<T>() == dtype(), "data_ptr<{}> on a {} tensor", dtype_of<T>(), dtype());
    return static_cast<T*>(raw_data());
  }

  // ---- autograd -----------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  const Tensor& grad() const;        // undefined until a backward reaches it
  void set_grad(const Tensor& g);    // e.g. zero_grad(set_to_none)
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  uint32_t output_nr() const;
  bool is_leaf() const;
  // Backpropagates from this tensor. A scalar needs no gradient argument.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same storage, no history
  // Called with the gradient of this tensor during backward; may return a
  // replacement. On a leaf, runs before the gradient is accumulated.
  void register_hook(GradHook hook) const;
  // Called after a leaf's .grad was updated (DDP uses it to start reducing).
  void register_post_accumulate_hook(std::function<void(const Tensor&)> hook) const;
  void retain_grad() const;  // keep .grad on a non-leaf

  // ---- element access and conversion --------------------------------------
  template <class T> T item() const;  // one-element tensors; converts
  Tensor to(DType t) const;           // same tensor if already t
  Tensor to(Device d) const;
  Tensor contiguous() const;          // same tensor if already contiguous
  Tensor clone() const;
  // A copy in page-locked host memory (this tensor if it already is one), so
  // copies to a GPU run asynchronously. Needs a GPU backend.
  Tensor pin_memory() const;
  bool is_pinned() const;

  // ---- views (share storage) ----------------------------------------------
  Tensor view(const Shape& shape) const;     // -1 infers one dim; must not need a copy
  Tensor reshape(const Shape& shape) const;  // view when possible, else copy
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
               int64_t step = 1) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a dim
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // ---- in place (bump the version counter) --------------------------------
  Tensor& add_(const Tensor& other, Scalar alpha = 1);
  Tensor& add_(Scalar other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(Scalar other);
  Tensor& div_(const Tensor& other);
  Tensor& zero_();
  Tensor& fill_(Scalar value);
  Tensor& copy_(const Tensor& src);  // broadcasts and converts dtype

  // ---- common ops as methods ----------------------------------------------
  Tensor sum(const Shape& dims = {}, bool keepdim = false) const;
  Tensor mean(const Shape& dims = {}, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(Scalar exponent) const;
  Tensor matmul(const Tensor& other) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Gradient bookkeeping. Only tensors that ever took part in autograd carry one.
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;  // null for leaves
  uint32_t output_nr = 0;                   // which output of grad_fn this is
  std::weak_ptr<autograd::Node> grad_accumulator;  // leaves only, made lazily
  // Leaves: hooks on the incoming gradient, and hooks after .grad is updated.
  // Kept here (not on the accumulator) so they outlive any one graph.
  std::vector<GradHook> leaf_hooks;
  std::vector<std::function<void(const Tensor&)>> post_accumulate_hooks;
  // Views with history: the root tensor viewed and its grad_fn when the view
  // was taken. An in-place op on the base under autograd changes that grad_fn,
  // which makes this view's history stale (autograd refuses to use it).
  std::weak_ptr<TensorImpl> view_base;
  const void* view_base_grad_fn = nullptr;
};

struct TensorImpl {
  Storage storage;
  DType dtype = DType::f32;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  bool is_view = false;
  std::unique_ptr<AutogradMeta> autograd;

  AutogradMeta& autograd_meta() {
    if (!autograd) autograd = std::make_unique<AutogradMeta>();
    return *autograd;
  }
};

// A new tensor with fresh, uninitialised storage (the result of every kernel).
Tensor empty(const Shape& shape, TensorOptions options = {});
// A contiguous cpu tensor in pinned memory (see Tensor::pin_memory()).
Tensor empty_pinned(const Shape& shape, DType dtype);
// A view: shares `base`'s storage with new geometry. Only the op layer makes these.
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace dlt
