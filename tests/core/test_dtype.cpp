#include "dlt/core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(dtype_name(DType::f32), "float32");
  EXPECT_EQ(dtype_name(DType::boolean), "bool");
  EXPECT_EQ(dtype_size(DType::bf16), 2u);
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_EQ(parse_dtype("float16"), DType::f16);
  EXPECT_EQ(parse_dtype("bf16"), DType::bf16);
  testing::expect_error([] { parse_dtype("float8"); }, {"unknown dtype 'float8'"});
}

// torch.promote_types for every pair we support.
TEST(DType, PromotionMatchesTorch) {
  EXPECT_EQ(promote_types(DType::u8, DType::i32), DType::i32);
  EXPECT_EQ(promote_types(DType::boolean, DType::u8), DType::u8);
  EXPECT_EQ(promote_types(DType::i64, DType::f16), DType::f16);
  EXPECT_EQ(promote_types(DType::f16, DType::bf16), DType::f32);
  EXPECT_EQ(promote_types(DType::bf16, DType::f32), DType::f32);
  EXPECT_EQ(promote_types(DType::f32, DType::f64), DType::f64);
  EXPECT_EQ(promote_types(DType::i32, DType::i64), DType::i64);
}

// 0-dim tensors and plain numbers do not raise a dimensioned operand's dtype
// within its category, as in torch.
TEST(DType, ResultTypeWithZeroDimAndScalars) {
  const Tensor f32 = zeros({3});
  const Tensor i64 = zeros({3}, DType::i64);
  const Tensor u8 = zeros({3}, DType::u8);
  EXPECT_EQ(result_type(f32, scalar_tensor(1.0, DType::f64)), DType::f32);
  EXPECT_EQ(result_type(i64, scalar_tensor(1.5, DType::f64)), DType::f64);
  EXPECT_EQ((f32 * 2.5).dtype(), DType::f32);
  EXPECT_EQ((i64 * 2.5).dtype(), DType::f32);
  EXPECT_EQ((i64 * 2).dtype(), DType::i64);
  EXPECT_EQ((u8 + 1).dtype(), DType::u8);
  EXPECT_EQ((u8 + i64).dtype(), DType::i64);
  EXPECT_EQ(div(i64, i64).dtype(), DType::f32);
}

TEST(DType, HalfAndBFloat16RoundTrip) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953f}) {
    EXPECT_EQ(float(Half(v)), v) << v;
  }
  EXPECT_TRUE(std::isinf(float(Half(1e6f))));
  EXPECT_TRUE(std::isnan(float(Half(NAN))));
  EXPECT_EQ(float(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(float(BFloat16(3.140625f)), 3.140625f);
  // Round to nearest even: 1 + 2^-8 lies halfway between bf16 neighbours.
  EXPECT_EQ(float(BFloat16(1.00390625f)), 1.0f);
  EXPECT_EQ(float(Half(1.00048828125f)), 1.0f);
}

TEST(DType, CastsBetweenAllTypes) {
  const Tensor x = from_vector<double>({-1.5, 0, 2.25, 300}, {4});
  EXPECT_EQ(testing::to_vector<double>(x.to(DType::i64)), (std::vector<double>{-1, 0, 2, 300}));
  EXPECT_EQ(testing::to_vector<double>(x.to(DType::boolean)), (std::vector<double>{1, 0, 1, 1}));
  EXPECT_EQ(testing::to_vector<double>(x.to(DType::f16)), (std::vector<double>{-1.5, 0, 2.25, 300}));
  EXPECT_EQ(testing::to_vector<double>(x.to(DType::bf16)), (std::vector<double>{-1.5, 0, 2.25, 300}));
}

}  // namespace
}  // namespace dlt
