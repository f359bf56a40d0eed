#include "dlt/nn/layers/reshape.h"

#include <algorithm>

#include "dlt/ops/ops.h"

namespace dlt::nn {

Reshape::Reshape(ReshapeOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  const int64_t numel = numel_of(input_shape);
  const auto inferred = std::count(o.shape.begin(), o.shape.end(), -1);
  int64_t known = 1;
  bool valid = inferred <= 1;
  for (int64_t d : o.shape) {
    valid = valid && (d >= 1 || d == -1);
    if (d >= 1) known *= d;
  }
  valid = valid && (inferred ? numel % known == 0 : known == numel);
  DLT_LAYER_CHECK(valid, "cannot reshape input {} ({} values per sample) to {}",
                  shape_str(input_shape), numel, shape_str(o.shape));
  output_shape_ = o.shape;
  for (int64_t& d : output_shape_)
    if (d == -1) d = numel / known;
}

Tensor Reshape::forward(const Tensor& x) {
  Shape target{x.size(0)};
  target.insert(target.end(), output_shape_.begin(), output_shape_.end());
  return x.reshape(target);  // (B, *shape)
}

std::string Reshape::describe() const { return "shape=" + shape_str(options.shape); }

static const LayerInfo kReshapeInfo{
    .summary = "views each sample as `shape` (one dim may be -1)",
    .options = {
        {"shape", "", "the new sample shape, without the batch dim"}},
    .example = "{type: Reshape, shape: [1, 2, 3]}",
    .example_input = {6}};

static Built build_reshape(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kReshapeInfo);
  return make_layer<Reshape>(ReshapeOptions{.shape = spec.get<Shape>("shape")}, input_shape, ctx);
}
DLT_REGISTER_LAYER(Reshape, build_reshape, kReshapeInfo);

}  // namespace dlt::nn
