#include "dlt/nn/layers/dropout.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

Dropout::Dropout(DropoutOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.p >= 0 && o.p <= 1, "p must be between 0 and 1, got {}", o.p);
  output_shape_ = input_shape;
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, options.p, training(), gen_); }

std::string Dropout::describe() const { return fmt::format("p={}", options.p); }

static Built build_dropout(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  spec.check_keys({"type", "p"});
  return make_layer<Dropout>(DropoutOptions{.p = read_double(spec, "p", 0.5, 0, 1)}, input_shape,
                             ctx);
}
DLT_REGISTER_LAYER(Dropout, build_dropout);

}  // namespace dlt::nn
