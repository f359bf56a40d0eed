// The node every recorded op call creates, and the recorder that run() calls.
#include <algorithm>
#include <array>
#include <cctype>

#include "dlt/autograd/formula.h"
#include "dlt/autograd/node.h"

namespace dlt::autograd {

namespace {

std::array<Formula, ops::kNumOps>& formulas() {
  static std::array<Formula, ops::kNumOps> f{};
  return f;
}

}  // namespace

bool register_formula(ops::OpId op, Formula formula) {
  formulas()[static_cast<int>(op)] = formula;
  return true;
}

const Formula* find_formula(ops::OpId op) {
  const Formula& f = formulas()[static_cast<int>(op)];
  return f.fn ? &f : nullptr;
}

const Tensor& SavedTensor::unpack(const char* node_name) const {
  DLT_ASSERT(data_.defined(), "{}: saved tensor missing (was it saved?)", node_name);
  DLT_CHECK(data_.version() == version_,
            "one of the tensors needed for gradient computation has been modified by an inplace "
            "operation: [{} {}] is at version {}; expected version {} instead (saved by {}). "
            "Use an out-of-place op or clone() the tensor before modifying it.",
            data_.dtype(), shape_str(data_.shape()), data_.version(), version_, node_name);
  return data_;
}

const Tensor& BackwardContext::input(size_t i) const {
  DLT_ASSERT(i < saved_inputs_->size(), "{}: input {} out of range", name_, i);
  return (*saved_inputs_)[i].unpack(name_);
}

const Tensor& BackwardContext::output(size_t i) const {
  DLT_ASSERT(i < saved_outputs_->size(), "{}: output {} out of range", name_, i);
  return (*saved_outputs_)[i].unpack(name_);
}

class OpNode final : public Node {
 public:
  OpNode(ops::OpId op, const Formula& formula) : op_(op), formula_(formula) {}

  std::string name() const override {
    // MulBackward, like torch's grad_fn names.
    std::string n = ops::op_name(op_);
    std::string out;
    bool up = true;
    for (char c : n) {
      if (c == '_') {
        up = true;
        continue;
      }
      out += up ? char(std::toupper(c)) : c;
      up = false;
    }
    return out + "Backward";
  }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    DLT_CHECK(!released_,
              "trying to backward through the graph a second time ({}); the saved tensors were "
              "freed after the first backward. Pass retain_graph=true to the first backward.",
              name());
    const std::string n = name();
    BackwardContext ctx;
    ctx.name_ = n.c_str();
    ctx.grads_ = grads;
    ctx.saved_inputs_ = &saved_inputs_;
    ctx.saved_outputs_ = &saved_outputs_;
    ctx.inputs_meta_ = inputs_meta_;
    ctx.needs_.resize(next_edges.size());
    for (size_t i = 0; i < next_edges.size(); ++i) ctx.needs_[i] = next_edges[i].valid();
    ctx.attrs_ = &attrs_;
    std::vector<Tensor> result = formula_.fn(ctx);
    DLT_ASSERT(result.size() == next_edges.size(), "{} returned {} gradients for {} inputs", n,
               result.size(), next_edges.size());
    return result;
  }

  void release_saved() override {
    saved_inputs_.clear();
    saved_outputs_.clear();
    released_ = true;
  }

  ops::OpId op_;
  Formula formula_;
  std::vector<SavedTensor> saved_inputs_, saved_outputs_;
  std::vector<InputMeta> inputs_meta_;
  std::any attrs_;
  bool released_ = false;
};

namespace {

// True when t is a view whose base (the root of its chain of views) was
// modified in place under autograd after the view was taken.
bool is_stale_view(const TensorImpl* t) {
  if (!t || !t->autograd) return false;
  const auto base = t->autograd->view_base.lock();
  if (!base) return false;
  const void* base_fn = base->autograd ? base->autograd->grad_fn.get() : nullptr;
  return base_fn != t->autograd->view_base_grad_fn;
}

}  // namespace

void check_not_stale(const Tensor& t) {
  DLT_CHECK(!t.defined() || !is_stale_view(t.impl()),
            "a view of a tensor that was later modified in place is used in autograd; its history "
            "no longer matches its values. Take the view again after the in-place op (or clone "
            "the view before it)");
}

namespace {

void record_call(ops::OpId op, std::span<const Tensor> in, std::span<Tensor> out,
                 const void* attrs) {
  const Formula* formula = find_formula(op);
  DLT_CHECK(formula != nullptr, "op '{}' is not differentiable", ops::op_name(op));
  auto node = std::make_shared<OpNode>(op, *formula);
  const Saves& saves = formula->saves;
  node->saved_inputs_.resize(in.size());
  node->inputs_meta_.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Tensor& t = in[i];
    check_not_stale(t);
    node->next_edges.push_back(gradient_edge(t));
    node->inputs_meta_.push_back(t.defined() ? InputMeta{t.shape(), t.dtype(), t.device(), true}
                                             : InputMeta{{}, DType::f32, Device::cpu(), false});
    if (i < 32 && (saves.inputs >> i & 1)) node->saved_inputs_[i] = SavedTensor(t);
  }
  node->saved_outputs_.resize(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    if (i < 32 && (saves.outputs >> i & 1)) node->saved_outputs_[i] = SavedTensor(out[i]);
  if (attrs) node->attrs_ = formula->copy_attrs(attrs);
  const size_t n_diff = std::min<size_t>(out.size(), size_t(saves.differentiable_outputs));
  for (size_t i = 0; i < n_diff; ++i) {
    Tensor& t = out[i];
    node->outputs.push_back({t.shape(), t.dtype(), t.device()});
    if (!is_floating(t.dtype())) continue;
    AutogradMeta& meta = t.impl()->autograd_meta();
    meta.requires_grad = true;
    meta.grad_fn = node;
    meta.output_nr = uint32_t(i);
  }
}

const bool recorder_installed = [] {
  ops::set_grad_recorder(&record_call);
  return true;
}();

}  // namespace

}  // namespace dlt::autograd
