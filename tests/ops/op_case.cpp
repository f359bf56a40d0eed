#include "tests/ops/op_case.h"

#include "tests/test_util.h"

#include <algorithm>
#include <numeric>

namespace dlt::testing {

std::vector<OpCase>& op_cases() {
  static std::vector<OpCase> cases;
  return cases;
}

bool register_op_cases(const char*, std::vector<OpCase> (*make)()) {
  for (OpCase& c : make()) op_cases().push_back(std::move(c));
  return true;
}

uint64_t case_seed(const OpCase& c) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across platforms
  for (char ch : case_name(c)) h = (h ^ uint8_t(ch)) * 1099511628211ull;
  return h;
}

ops::OpId op_by_name(const std::string& name) {
  for (int i = 0; i < ops::kNumOps; ++i)
    if (name == ops::op_name(static_cast<ops::OpId>(i))) return static_cast<ops::OpId>(i);
  throw Error(fmt::format("the op table names '{}', which is not in the op list", name));
}

std::string case_name(const OpCase& c) {
  return c.label.empty() ? c.op : fmt::format("{}[{}]", c.op, c.label);
}

namespace {

Tensor draw(const InputSpec& spec, DType float_dtype, Generator& gen) {
  const int64_t n = numel_of(spec.shape);
  switch (spec.values) {
    case Values::normal: return randn(spec.shape, DType::f64, &gen).to(float_dtype);
    case Values::uniform: return uniform(spec.shape, spec.lo, spec.hi, DType::f64, &gen).to(float_dtype);
    case Values::positive: return uniform(spec.shape, 0.5, 2.0, DType::f64, &gen).to(float_dtype);
    case Values::integer:
      return randint(int64_t(spec.lo), int64_t(spec.hi), spec.shape, spec.dtype.value_or(DType::i64), &gen);
    case Values::boolean: return lt(rand(spec.shape, DType::f64, &gen), scalar_tensor(0.5, DType::f64));
    case Values::distinct: {
      // A permutation of n evenly spaced values in (-1, 1): no ties, and
      // gaps of 2/n keep finite differences away from the kinks.
      const std::vector<double> keys = to_vector<double>(rand({n}, DType::f64, &gen));
      std::vector<size_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), size_t(0));
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      std::vector<double> vals(static_cast<size_t>(n));
      for (size_t i = 0; i < size_t(n); ++i) vals[order[i]] = (2.0 * double(i) + 1) / double(n) - 1;
      return from_vector(vals, spec.shape).to(float_dtype);
    }
  }
  throw InternalError("unknown Values kind");
}

}  // namespace

Inputs make_inputs(const OpCase& c, DType float_dtype, uint64_t seed) {
  Generator gen(seed);
  Inputs out;
  for (const InputSpec& spec : c.inputs) {
    const bool floating_kind = spec.values != Values::integer && spec.values != Values::boolean;
    const DType dtype = spec.dtype.value_or(floating_kind ? float_dtype : DType::i64);
    Tensor t;
    if (spec.noncontig && !spec.shape.empty()) {
      // Every other element of a last dim twice as long: a strided view.
      InputSpec wide = spec;
      wide.shape.back() *= 2;
      wide.noncontig = false;
      t = draw(wide, dtype, gen).to(dtype).slice(-1, 0, std::nullopt, 2);
    } else {
      t = draw(spec, dtype, gen).to(dtype);
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace dlt::testing

namespace dlt::testing {

std::vector<size_t> gradcheck_rows() {
  std::vector<size_t> rows;
  for (size_t i = 0; i < op_cases().size(); ++i)
    if (op_cases()[i].gradcheck) rows.push_back(i);
  return rows;
}

std::vector<size_t> parity_rows() {
  std::vector<size_t> rows;
  for (size_t i = 0; i < op_cases().size(); ++i)
    if (op_cases()[i].parity) rows.push_back(i);
  return rows;
}

std::string case_test_name(size_t i) {
  std::string name = case_name(op_cases()[i]);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  while (!name.empty() && name.back() == '_') name.pop_back();
  return fmt::format("{}_{}", name, i);
}

}  // namespace dlt::testing
