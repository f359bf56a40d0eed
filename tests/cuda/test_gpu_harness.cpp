// Host-side checks of the CUDA test harness, run in `unit` of every build:
// strided inputs keep their strides when moved, and the tolerance table only
// loosens from exact to contraction and from f64 to bf16.
#include "tests/cuda/cuda_harness.h"
#include "tests/cuda/gpu_tolerance.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

TEST(GpuHarness, StridedInputsStayStrided) {
  const OpCase row{.op = "exp", .inputs = {{.shape = {4, 3}, .noncontig = true}}};
  const Tensor drawn = make_inputs(row, DType::f32, 7)[0];
  ASSERT_FALSE(drawn.is_contiguous());
  const Tensor moved = to_device_as_drawn(drawn, row.inputs[0], Device::cpu());
  EXPECT_FALSE(moved.is_contiguous());
  EXPECT_EQ(moved.strides(), drawn.strides());
  EXPECT_EQ(to_vector<double>(moved), to_vector<double>(drawn));
}

TEST(GpuHarness, ContiguousInputsMoveAsTheyAre) {
  const OpCase row{.op = "exp", .inputs = {{.shape = {2, 5}}}};
  const Tensor drawn = make_inputs(row, DType::f64, 7)[0];
  const Tensor moved = to_device_as_drawn(drawn, row.inputs[0], Device::cpu());
  EXPECT_TRUE(moved.is_contiguous());
  EXPECT_EQ(to_vector<double>(moved), to_vector<double>(drawn));
}

TEST(GpuHarness, TolerancesLoosenWithTheClassAndTheDtype) {
  const std::vector<std::string> by_class = {"relu", "add", "exp", "sum", "matmul"};
  for (size_t i = 0; i < by_class.size(); ++i)
    EXPECT_EQ(static_cast<size_t>(op_class(by_class[i])), i) << by_class[i];
  EXPECT_EQ(op_class("layer_norm"), OpClass::reduction) << "unlisted ops count as reductions";
  EXPECT_EQ(gpu_tolerance("relu", DType::f32, false).rtol, 0);
  const std::vector<DType> by_precision = {DType::f64, DType::f32, DType::f16, DType::bf16};
  for (const std::string& op : by_class) {
    for (size_t d = 1; d < by_precision.size(); ++d) {
      const Tolerance finer = gpu_tolerance(op, by_precision[d - 1], false);
      const Tolerance coarser = gpu_tolerance(op, by_precision[d], false);
      EXPECT_LE(finer.rtol, coarser.rtol) << op << " " << dtype_name(by_precision[d]);
      EXPECT_LE(finer.atol, coarser.atol) << op << " " << dtype_name(by_precision[d]);
    }
    for (DType dt : by_precision) {
      const Tolerance fwd = gpu_tolerance(op, dt, false), bwd = gpu_tolerance(op, dt, true);
      EXPECT_LE(fwd.rtol, bwd.rtol) << op << " " << dtype_name(dt) << ": backward sums, so it is never tighter";
      EXPECT_GE(bwd.rtol, gpu_tolerance("sum", dt, false).rtol) << op << " " << dtype_name(dt);
    }
  }
  for (size_t c = 1; c < by_class.size(); ++c)
    for (DType dt : by_precision)
      EXPECT_LE(gpu_tolerance(by_class[c - 1], dt, false).rtol, gpu_tolerance(by_class[c], dt, false).rtol)
          << by_class[c] << " " << dtype_name(dt);
}

}  // namespace
}  // namespace dlt::testing
