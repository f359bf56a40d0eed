// causal_attention on the CPU: equal to the unfused path it replaces on
// accelerators, independent of the thread count, and clear about bad input.
// (Gradcheck and torch parity run from the rows in cases_attention.cpp.)
#include "tests/ops/attention_reference.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// Every value of a against b: |a - b| <= tol (1 + |b|).
void expect_close(const Tensor& a, const Tensor& b, double tol, const char* what) {
  EXPECT_EQ(a.shape(), b.shape()) << what;
  EXPECT_EQ(compare_close(to_vector<double>(a), to_vector<double>(b), tol, tol), "") << what;
}

void expect_fused_matches_unfused(Shape shape, DType dtype, double tol) {
  Generator gen(7);
  const TensorOptions o(dtype);
  const Tensor q = randn(shape, o, &gen), k = randn(shape, o, &gen), v = randn(shape, o, &gen);
  const Tensor upstream = randn(shape, o, &gen);
  const AttentionRun fused = run_attention(true, q, k, v, upstream);
  const AttentionRun unfused = run_attention(false, q, k, v, upstream);
  expect_close(fused.out, unfused.out, tol, "out");
  expect_close(fused.dq, unfused.dq, tol, "dq");
  expect_close(fused.dk, unfused.dk, tol, "dk");
  expect_close(fused.dv, unfused.dv, tol, "dv");
}

TEST(CausalAttention, MatchesTheUnfusedPathInFloat64) {
  expect_fused_matches_unfused({2, 3, 7, 5}, DType::f64, 1e-12);
  expect_fused_matches_unfused({1, 1, 1, 4}, DType::f64, 1e-12);
}

// Sums over up to 40 keys in a different order: a few float32 ulps.
TEST(CausalAttention, MatchesTheUnfusedPathInFloat32) {
  expect_fused_matches_unfused({2, 2, 40, 16}, DType::f32, 1e-5);
}

// The blocked float kernel against the float64 one: lengths and head sizes
// off its 16-wide blocks and tiles, several blocks of queries, grouped heads.
void expect_float_matches_float64(Shape q_shape, int64_t kv_heads, DType dtype, double tol) {
  Generator gen(13);
  Shape kv_shape = q_shape;
  kv_shape[1] = kv_heads;
  const Tensor q = randn(q_shape, DType::f64, &gen), k = randn(kv_shape, DType::f64, &gen),
               v = randn(kv_shape, DType::f64, &gen), upstream = randn(q_shape, DType::f64, &gen);
  const AttentionRun wide = run_attention(true, q, k, v, upstream);
  const AttentionRun narrow =
      run_attention(true, q.to(dtype), k.to(dtype), v.to(dtype), upstream.to(dtype));
  const std::string label =
      fmt::format("{} {} Hkv {}", dtype_name(dtype), shape_str(q_shape), kv_heads);
  expect_close(narrow.out, wide.out, tol, (label + " out").c_str());
  expect_close(narrow.dq, wide.dq, tol, (label + " dq").c_str());
  expect_close(narrow.dk, wide.dk, tol, (label + " dk").c_str());
  expect_close(narrow.dv, wide.dv, tol, (label + " dv").c_str());
}

TEST(CausalAttention, BlockedFloatKernelMatchesFloat64) {
  expect_float_matches_float64({2, 3, 130, 24}, 3, DType::f32, 2e-5);
  expect_float_matches_float64({1, 2, 67, 64}, 2, DType::f32, 2e-5);
  expect_float_matches_float64({2, 4, 45, 40}, 2, DType::f32, 2e-5);  // grouped
  expect_float_matches_float64({1, 3, 33, 8}, 1, DType::f32, 2e-5);   // one kv head
  expect_float_matches_float64({1, 1, 1, 1}, 1, DType::f32, 1e-6);
  expect_float_matches_float64({1, 2, 37, 16}, 1, DType::f16, 2e-2);
  expect_float_matches_float64({1, 2, 37, 16}, 2, DType::bf16, 1e-1);
}

// Dropout on the weights: the mask dropout(weights) draws from the same
// generator state, in both kernels, grouped heads included.
void expect_dropout_matches_unfused(Shape q_shape, int64_t kv_heads, DType dtype, double p,
                                    double tol) {
  Generator gen(17);
  Shape kv_shape = q_shape;
  kv_shape[1] = kv_heads;
  const TensorOptions o(dtype);
  const Tensor q = randn(q_shape, o, &gen), k = randn(kv_shape, o, &gen), v = randn(kv_shape, o, &gen),
               upstream = randn(q_shape, o, &gen);
  const AttentionRun fused = run_attention(true, q, k, v, upstream, p, 99);
  const AttentionRun unfused = run_attention(false, q, k, v, upstream, p, 99);
  const std::string label = fmt::format("{} {} Hkv {} p {}", dtype_name(dtype), shape_str(q_shape), kv_heads, p);
  expect_close(fused.out, unfused.out, tol, (label + " out").c_str());
  expect_close(fused.dq, unfused.dq, tol, (label + " dq").c_str());
  expect_close(fused.dk, unfused.dk, tol, (label + " dk").c_str());
  expect_close(fused.dv, unfused.dv, tol, (label + " dv").c_str());
}

TEST(CausalAttention, DropoutMatchesTheUnfusedPath) {
  expect_dropout_matches_unfused({2, 3, 7, 5}, 3, DType::f64, 0.3, 1e-12);
  expect_dropout_matches_unfused({2, 4, 9, 4}, 2, DType::f64, 0.5, 1e-12);  // grouped
  expect_dropout_matches_unfused({2, 2, 70, 16}, 2, DType::f32, 0.1, 1e-5);  // three blocks
  expect_dropout_matches_unfused({1, 4, 33, 8}, 1, DType::f32, 0.6, 1e-5);   // one kv head, T odd
  expect_dropout_matches_unfused({1, 4, 34, 8}, 2, DType::f32, 0.2, 1e-5);   // T even: key masks
  expect_dropout_matches_unfused({1, 2, 16, 8}, 2, DType::bf16, 0.1, 1e-2);  // one block
}

TEST(CausalAttention, DropoutTakesTheCountersDropoutWouldAndChangesTheResult) {
  Generator gen(4);
  const Tensor q = randn({2, 3, 10, 4}, DType::f64, &gen);
  Generator fused_gen(8), unfused_gen(8);
  const Tensor dropped = causal_attention(q, q, q, std::nullopt, 0.25, &fused_gen);
  dropout(zeros({2, 3, 10, 10}, DType::f64), 0.25, true, &unfused_gen);
  EXPECT_EQ(fused_gen.offset(), unfused_gen.offset());
  EXPECT_NE(to_vector<double>(dropped), to_vector<double>(causal_attention(q, q, q)));
  // p = 0 draws nothing and equals no dropout.
  Generator idle(8);
  EXPECT_EQ(to_vector<double>(causal_attention(q, q, q, std::nullopt, 0.0, &idle)),
            to_vector<double>(causal_attention(q, q, q)));
  EXPECT_EQ(idle.offset(), 0u);
}

TEST(CausalAttention, DefaultScaleIsOneOverSqrtHeadSize) {
  Generator gen(3);
  const Tensor q = randn({1, 2, 6, 9}, DType::f64, &gen), k = randn({1, 2, 6, 9}, DType::f64, &gen),
               v = randn({1, 2, 6, 9}, DType::f64, &gen);
  expect_close(causal_attention(q, k, v), causal_attention(q, k, v, 1.0 / 3.0), 0, "out");
  expect_close(causal_attention(q, k, v, 0.25), unfused_causal_attention(q, k, v, 0.25), 1e-12,
               "scale 0.25");
}

// The heads of a fused (B, T, 3, H, D) projection, as MultiHeadAttention
// passes them: strided over B, H and T, contiguous along D; the upstream
// gradient strided likewise. float with D a multiple of 16 reads such rows
// in place, other dtypes and sizes convert them first: either way the
// results equal those of contiguous copies, bit for bit.
void expect_strided_heads_match_contiguous(Shape packed, DType dtype) {
  Generator gen(5);
  const TensorOptions o(dtype);
  const Tensor qkv = randn(packed, o, &gen).permute({2, 0, 3, 1, 4});
  const Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
  const Tensor upstream = randn({packed[0], packed[1], packed[3], packed[4]}, o, &gen).transpose(1, 2);
  ASSERT_FALSE(q.is_contiguous());
  ASSERT_FALSE(upstream.is_contiguous());
  const AttentionRun strided = run_attention(true, q, k, v, upstream);
  const AttentionRun plain =
      run_attention(true, q.contiguous(), k.contiguous(), v.contiguous(), upstream.contiguous());
  expect_close(strided.out, plain.out, 0, "out");
  expect_close(strided.dq, plain.dq, 0, "dq");
  expect_close(strided.dk, plain.dk, 0, "dk");
  expect_close(strided.dv, plain.dv, 0, "dv");
}

TEST(CausalAttention, TakesStridedHeadsWithoutChangingResults) {
  expect_strided_heads_match_contiguous({2, 5, 3, 2, 4}, DType::f64);
  expect_strided_heads_match_contiguous({2, 40, 3, 2, 16}, DType::f32);  // in place, two blocks
  expect_strided_heads_match_contiguous({1, 33, 3, 3, 24}, DType::f32);  // D padded: converted
  expect_strided_heads_match_contiguous({1, 20, 3, 2, 16}, DType::bf16);
}

TEST(Determinism, CausalAttentionDoesNotDependOnTheThreadCount) {
  ThreadCountGuard guard;
  Generator gen(11);
  const Shape shape{3, 2, 33, 8};
  const Tensor q = randn(shape, {}, &gen), k = randn(shape, {}, &gen), v = randn(shape, {}, &gen),
               upstream = randn(shape, {}, &gen);
  for (const double p : {0.0, 0.2}) {
    set_num_threads(1);
    const AttentionRun one = run_attention(true, q, k, v, upstream, p, 3);
    set_num_threads(4);
    const AttentionRun four = run_attention(true, q, k, v, upstream, p, 3);
    for (const auto& [a, b] : {std::pair{one.out, four.out}, {one.dq, four.dq}, {one.dk, four.dk},
                               {one.dv, four.dv}})
      EXPECT_EQ(to_vector<float>(a), to_vector<float>(b)) << "dropout " << p;
  }
}

TEST(CausalAttention, RejectsBadInputsNamingShapesAndDtypes) {
  const Tensor q = zeros({2, 3, 4, 5});
  expect_error([&] { causal_attention(zeros({3, 4, 5}), q, q); },
               {"causal_attention", "(B, H, T, D)", "[3, 4, 5]"});
  expect_error([&] { causal_attention(q, zeros({2, 3, 4, 6}), q); },
               {"causal_attention", "[2, 3, 4, 5]", "[2, 3, 4, 6]"});
  expect_error([&] { causal_attention(q, q, zeros({2, 3, 4, 5}, DType::f64)); },
               {"causal_attention", "float32", "float64"});
  expect_error([&] { causal_attention(zeros({1, 1, 2, 2}, DType::i64), zeros({1, 1, 2, 2}, DType::i64),
                                      zeros({1, 1, 2, 2}, DType::i64)); },
               {"causal_attention", "floating point", "int64"});
  expect_error([&] { causal_attention(zeros({1, 1, 2, 0}), zeros({1, 1, 2, 0}), zeros({1, 1, 2, 0})); },
               {"causal_attention", "head size D", "[1, 1, 2, 0]"});
  expect_error([&] { causal_attention(q, q, q, std::nullopt, 1.0); },
               {"causal_attention", "dropout", "[0, 1)", "1"});
  expect_error([&] { causal_attention(q, q, q, std::nullopt, -0.1); },
               {"causal_attention", "dropout", "-0.1"});
}

}  // namespace
}  // namespace dlt::testing
