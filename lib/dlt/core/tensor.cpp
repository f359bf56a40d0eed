#include "dlt/core/tensor.h"

#include "dlt/core/device_runtime.h"
#include "dlt/core/grad_mode.h"

namespace dlt {

namespace {
const Tensor& undefined_tensor() {
  static const Tensor t;
  return t;
}
const std::shared_ptr<autograd::Node>& null_node() {
  static const std::shared_ptr<autograd::Node> n;
  return n;
}
}  // namespace

#define DLT_REQUIRE_DEFINED() DLT_CHECK(impl_ != nullptr, "operation on an undefined tensor")

const Shape& Tensor::shape() const { DLT_REQUIRE_DEFINED(); return impl_->shape; }
const Shape& Tensor::strides() const { DLT_REQUIRE_DEFINED(); return impl_->strides; }
int64_t Tensor::dim() const { return int64_t(shape().size()); }
int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim())]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim())]; }
int64_t Tensor::offset() const { DLT_REQUIRE_DEFINED(); return impl_->offset; }
int64_t Tensor::numel() const { return numel_of(shape()); }
DType Tensor::dtype() const { DLT_REQUIRE_DEFINED(); return impl_->dtype; }
Device Tensor::device() const { DLT_REQUIRE_DEFINED(); return impl_->storage->device(); }
bool Tensor::is_view() const { DLT_REQUIRE_DEFINED(); return impl_->is_view; }
const Storage& Tensor::storage() const { DLT_REQUIRE_DEFINED(); return impl_->storage; }
uint32_t Tensor::version() const { return storage()->version(); }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // as torch: no element sits anywhere
  const Shape& sh = shape();
  const Shape& st = strides();
  int64_t expected = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("tensor of shape {}, {}, {}", shape_str(shape()), dtype(), device());
}

void* Tensor::raw_data() const {
  DLT_REQUIRE_DEFINED();
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * int64_t(element_size());
}

bool Tensor::requires_grad() const {
  return impl_ && impl_->autograd && impl_->autograd->requires_grad;
}

Tensor& Tensor::requires_grad_(bool on) {
  DLT_REQUIRE_DEFINED();
  DLT_CHECK(!on || is_floating(dtype()),
            "only floating point tensors can require gradients (got {})", dtype());
  DLT_CHECK(on || is_leaf(),
            "requires_grad_(false) on a non-leaf tensor: use detach() instead");
  impl_->autograd_meta().requires_grad = on;
  return *this;
}

const Tensor& Tensor::grad() const {
  return impl_ && impl_->autograd ? impl_->autograd->grad : undefined_tensor();
}

void Tensor::set_grad(const Tensor& g) {
  DLT_REQUIRE_DEFINED();
  if (g.defined())
    DLT_CHECK(g.shape() == shape(), "assigned grad of shape {} to a tensor of shape {}",
              shape_str(g.shape()), shape_str(shape()));
  impl_->autograd_meta().grad = g;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  return impl_ && impl_->autograd ? impl_->autograd->grad_fn : null_node();
}

uint32_t Tensor::output_nr() const {
  return impl_ && impl_->autograd ? impl_->autograd->output_nr : 0;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

Tensor Tensor::detach() const {
  DLT_REQUIRE_DEFINED();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->dtype = impl_->dtype;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  // Not a view for autograd's purposes (as torch): shares storage and the
  // version counter, so misuse of in-place writes is still caught.
  return Tensor(std::move(impl));
}

Tensor empty(const Shape& shape, TensorOptions options) {
  for (int64_t s : shape)
    DLT_CHECK(s >= 0, "negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  const int64_t n = numel_of(shape);
  impl->storage = std::make_shared<StorageImpl>(size_t(n) * dtype_size(options.dtype_),
                                                options.device_);
  impl->dtype = options.dtype_;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  Tensor t(std::move(impl));
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor empty_pinned(const Shape& shape, DType dtype) {
  Allocator* pinned = pinned_allocator();
  DLT_CHECK(pinned != nullptr, "pinned memory needs a GPU backend: {}",
            device_unavailable_reason(DeviceType::cuda));
  for (int64_t s : shape)
    DLT_CHECK(s >= 0, "negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<StorageImpl>(size_t(numel_of(shape)) * dtype_size(dtype),
                                                Device::cpu(), *pinned);
  impl->dtype = dtype;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

bool Tensor::is_pinned() const { return defined() && impl_->storage && impl_->storage->pinned(); }

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->dtype = base.dtype();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->is_view = true;
  return Tensor(std::move(impl));
}

}  // namespace dlt
