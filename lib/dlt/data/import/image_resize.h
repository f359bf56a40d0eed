// Resizing 8-bit images to one size for `dlt data import images`. Each axis
// on its own: area averaging where it shrinks (every source pixel counts,
// by how much of it an output pixel covers: a 2x shrink averages 2x2
// blocks), bilinear interpolation where it grows (pixel centres aligned,
// edges clamped, as PyTorch's interpolate(align_corners=False)). Both weigh
// source pixels by weights that sum to 1, so a constant image stays constant.
#pragma once

#include "dlt/data/import/image_codec.h"

namespace dlt::data {

// `in` resized to height x width (both >= 1); values rounded to the nearest.
Image resize_image(const Image& in, int64_t height, int64_t width);

}  // namespace dlt::data
