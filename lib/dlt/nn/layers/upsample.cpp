#include "dlt/nn/layers/upsample.h"

#include <cmath>

#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Upsample::Upsample(UpsampleOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  DLT_LAYER_CHECK(o.size.has_value() != o.scale_factor.has_value(),
                  "give exactly one of size and scale_factor");
  DLT_LAYER_CHECK(!o.align_corners || o.mode == UpsampleMode::bilinear,
                  "align_corners applies to mode bilinear only");
  for (int i = 0; i < 2; ++i) {
    const int64_t in = input_shape[size_t(i) + 1];
    // torch: floor(in * scale_factor), in double.
    output_size_[size_t(i)] = o.size ? (*o.size)[size_t(i)]
                                     : int64_t(std::floor(double(in) * (*o.scale_factor)[size_t(i)]));
  }
  DLT_LAYER_CHECK(output_size_[0] >= 1 && output_size_[1] >= 1,
                  "output size ({}, {}) of input {} must be at least 1x1", output_size_[0],
                  output_size_[1], shape_str(input_shape));
  output_shape_ = {input_shape[0], output_size_[0], output_size_[1]};
}

Tensor Upsample::forward(const Tensor& x) {
  return options.mode == UpsampleMode::nearest
             ? upsample_nearest2d(x, output_size_, options.scale_factor)
             : upsample_bilinear2d(x, output_size_, options.align_corners, options.scale_factor);
}

std::string Upsample::describe() const {
  std::string s = options.size ? fmt::format("size=({}, {})", (*options.size)[0], (*options.size)[1])
                               : fmt::format("scale_factor=({}, {})", (*options.scale_factor)[0],
                                             (*options.scale_factor)[1]);
  s += options.mode == UpsampleMode::nearest ? ", mode=nearest" : ", mode=bilinear";
  if (options.align_corners) s += ", align_corners=true";
  return s;
}

// A positive number for both dims, or a list of two.
static std::optional<std::array<double, 2>> read_scales(const config::Node& spec) {
  const auto n = spec.find("scale_factor");
  if (!n || n->is_null()) return std::nullopt;
  std::array<double, 2> scales{};
  if (n->is_sequence()) {
    if (n->size() != 2) n->fail(fmt::format("expected one number or a list of two, got {}", n->size()));
    scales = {n->at(size_t(0)).as<double>(), n->at(size_t(1)).as<double>()};
  } else {
    scales = {n->as<double>(), n->as<double>()};
  }
  if (!(scales[0] > 0 && scales[1] > 0) || !std::isfinite(scales[0]) || !std::isfinite(scales[1]))
    n->fail(fmt::format("must be positive, got ({}, {})", scales[0], scales[1]));
  return scales;
}

static const LayerInfo kUpsampleInfo{
    .summary = "resizes images by nearest or bilinear interpolation (torch.nn.Upsample): "
               "[C, H, W] -> [C, Ho, Wo]",
    .options = {{"size", "null", "output size: an integer or [Ho, Wo]; or give scale_factor"},
                {"scale_factor", "null", "output size = floor(input size * scale_factor)"},
                {"mode", "nearest", "nearest or bilinear"},
                {"align_corners", "false", "bilinear: map corner pixels onto corner pixels"}},
    .example = "{type: Upsample, scale_factor: 2}",
    .example_input = {2, 3, 4}};

static Built build_upsample(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kUpsampleInfo);
  UpsampleOptions o;
  if (const auto n = spec.find("size"); n && !n->is_null()) o.size = read_pair(spec, "size", 1);
  o.scale_factor = read_scales(spec);
  const std::string mode = spec.get_or<std::string>("mode", "nearest");
  if (mode != "nearest" && mode != "bilinear")
    spec.at("mode").fail(fmt::format("expected 'nearest' or 'bilinear', got '{}'", mode));
  o.mode = mode == "nearest" ? UpsampleMode::nearest : UpsampleMode::bilinear;
  o.align_corners = spec.get_or("align_corners", false);
  return make_layer<Upsample>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Upsample, build_upsample, kUpsampleInfo);

}  // namespace dlt::nn
