#include "dlt/nn/layers/flatten.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

Flatten::Flatten(FlattenOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  const int64_t ndim = int64_t(input_shape.size()) + 1;  // with the batch dim
  DLT_LAYER_CHECK(!input_shape.empty(), "expected input with at least 1 dimension, got []");
  start_ = o.start_dim < 0 ? o.start_dim + ndim : o.start_dim;
  end_ = o.end_dim < 0 ? o.end_dim + ndim : o.end_dim;
  DLT_LAYER_CHECK(start_ >= 1 && start_ < ndim && end_ >= start_ && end_ < ndim,
                  "start_dim {} and end_dim {} must select sample dims 1..{} in order (dim 0 is "
                  "the batch) for input {}",
                  o.start_dim, o.end_dim, ndim - 1, shape_str(input_shape));
  // Sample dims are the tensor's dims minus one.
  const auto first = input_shape.begin() + (start_ - 1), last = input_shape.begin() + end_;
  output_shape_.assign(input_shape.begin(), first);
  output_shape_.push_back(numel_of(Shape(first, last)));
  output_shape_.insert(output_shape_.end(), last, input_shape.end());
}

Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_, end_); }

std::string Flatten::describe() const {
  return fmt::format("start_dim={}, end_dim={}", options.start_dim, options.end_dim);
}

static const LayerInfo kFlattenInfo{
    .summary = "merges dims start_dim..end_dim into one (torch.nn.Flatten; dims counted with "
               "the batch)",
    .options = {
        {"start_dim", "1", "first dim merged (0 is the batch)"},
        {"end_dim", "-1", "last dim merged"}},
    .example = "{type: Flatten}",
    .example_input = {2, 3, 4}};

static Built build_flatten(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kFlattenInfo);
  const FlattenOptions o{.start_dim = spec.get_or<int64_t>("start_dim", 1),
                         .end_dim = spec.get_or<int64_t>("end_dim", -1)};
  return make_layer<Flatten>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Flatten, build_flatten, kFlattenInfo);

}  // namespace dlt::nn
