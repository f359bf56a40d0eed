// Test rows for upsample_nearest2d and upsample_bilinear2d (composites of
// index_select and elementwise ops) against F.interpolate. Tolerances:
//   nearest forward: copies, exact; its gradient adds repeated indices in
//     index_add's order, not torch's: f32 1e-6, f64 1e-12
//   bilinear f32: torch's weights (float) and order of products and sums: 1e-6
//   bilinear bf16: the weights and each product and sum are rounded to bf16
//     (torch computes in float and rounds once): 3e-2
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

using A2 = std::array<int64_t, 2>;
using Scales = std::optional<std::array<double, 2>>;

const std::vector<Tolerance> kTol = {{DType::f32, 1e-6, 1e-6}, {DType::f64, 1e-12, 1e-12}};
const std::vector<Tolerance> kTolBf16 = {
    {DType::f32, 1e-6, 1e-6}, {DType::f64, 1e-12, 1e-12}, {DType::bf16, 3e-2, 3e-2}};

struct ResizeRow {
  std::string label;
  Shape x;
  A2 size;
  Scales scales = std::nullopt;  // passed as scale_factor to torch when set
  bool align_corners = false;    // bilinear only
  bool noncontig = false;
  bool bf16 = false;
};

// F.interpolate's size or scale_factor argument.
std::string size_arg(const ResizeRow& r) {
  if (r.scales) return fmt::format("scale_factor=({}, {})", (*r.scales)[0], (*r.scales)[1]);
  return fmt::format("size=({}, {})", r.size[0], r.size[1]);
}

OpCase nearest_case(const ResizeRow& r) {
  return {.op = "upsample_nearest2d",
          .label = r.label,
          .inputs = {{.shape = r.x, .noncontig = r.noncontig}},
          .fn = [r](const Inputs& x) { return upsample_nearest2d(x[0], r.size, r.scales); },
          .torch = fmt::format("F.interpolate(x0, {}, mode='nearest')", size_arg(r)),
          .tolerances = r.bf16 ? kTolBf16 : kTol};
}

OpCase bilinear_case(const ResizeRow& r) {
  return {.op = "upsample_bilinear2d",
          .label = r.label,
          .inputs = {{.shape = r.x, .noncontig = r.noncontig}},
          .fn = [r](const Inputs& x) {
            return upsample_bilinear2d(x[0], r.size, r.align_corners, r.scales);
          },
          .torch = fmt::format("F.interpolate(x0, {}, mode='bilinear', align_corners={})",
                               size_arg(r), r.align_corners ? "True" : "False"),
          .tolerances = r.bf16 ? kTolBf16 : kTol};
}

DLT_OP_CASES(upsample) {
  std::vector<OpCase> rows;
  for (const ResizeRow& r : std::initializer_list<ResizeRow>{
           {.label = "scale 2", .x = {2, 3, 4, 5}, .size = {8, 10}, .scales = {{2, 2}},
            .bf16 = true},
           {.label = "size up and down", .x = {1, 2, 5, 4}, .size = {7, 3}},
           {.label = "scale 1.5 and 1.7", .x = {1, 2, 4, 5}, .size = {6, 8}, .scales = {{1.5, 1.7}}},
           {.label = "size 82 from 2 (float source index)", .x = {1, 1, 2, 3}, .size = {82, 3}},
           {.label = "noncontig", .x = {2, 2, 3, 4}, .size = {6, 5}, .noncontig = true},
       })
    rows.push_back(nearest_case(r));
  for (const ResizeRow& r : std::initializer_list<ResizeRow>{
           {.label = "scale 2", .x = {2, 2, 4, 5}, .size = {8, 10}, .scales = {{2, 2}},
            .bf16 = true},
           {.label = "size up and down", .x = {1, 2, 5, 4}, .size = {7, 3}},
           {.label = "size up and down align_corners", .x = {1, 2, 5, 4}, .size = {7, 3},
            .align_corners = true},
           {.label = "scale 1.5 and 0.6", .x = {1, 2, 6, 5}, .size = {9, 3},
            .scales = {{1.5, 0.6}}},
           {.label = "to one pixel align_corners", .x = {1, 2, 3, 4}, .size = {1, 1},
            .align_corners = true},
           {.label = "noncontig", .x = {2, 2, 3, 4}, .size = {6, 5}, .noncontig = true},
       })
    rows.push_back(bilinear_case(r));
  return rows;
}

}  // namespace
}  // namespace dlt::testing
