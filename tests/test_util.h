// Helpers shared by the test suites: host copies of tensor values and
// assertions on dlt::Error messages.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dlt/core/parallel.h"
#include "dlt/data/sentencepiece_shim.h"
#include "dlt/ops/ops.h"

namespace dlt::testing {

// The tensor's values in logical (row-major) order, converted to T.
template <class T> std::vector<T> to_vector(const Tensor& t) {
  const Tensor c = t.to(Device::cpu()).contiguous();
  std::vector<T> out(size_t(c.numel()));
  visit_dtype(c.dtype(), [&]<class S>() {
    const S* p = static_cast<const S*>(c.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(compute_t<S>(p[i]));
  });
  return out;
}

// Runs f, expects a dlt::Error whose message contains every piece.
template <class F> void expect_error(F&& f, std::initializer_list<std::string> pieces) {
  try {
    f();
  } catch (const Error& e) {
    for (const std::string& p : pieces) EXPECT_THAT(e.what(), ::testing::HasSubstr(p));
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected dlt::Error, got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "expected dlt::Error, nothing was thrown";
}

// Skips a test that trains or loads a SentencePiece model where this build
// cannot (sanitizer builds), with the reason.
#define DLT_SKIP_WITHOUT_SENTENCEPIECE()                                          \
  do {                                                                            \
    if (const std::string why = ::dlt::data::sentencepiece_unavailable(); !why.empty()) \
      GTEST_SKIP() << why;                                                        \
  } while (0)

// The interpreter that has torch 1.13 (Debian's python3-torch), the oracle.
inline constexpr const char* kPython = "/usr/bin/python3";
// The interpreter the torch parity suites run: $DLT_TORCH_PY when set (a
// command used as python3, e.g. ../shared/peers/torch2.sh for the current
// torch), else kPython.
const char* torch_python();
// Whether torch_python() can import torch and numpy (checked once).
bool torch_available();

// A fresh folder under the system temp dir, removed with its contents when
// this goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& root() const { return root_; }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::filesystem::path root_;
  std::string dir_;
};

// Raw little-endian float64 files: how tests hand values to torch scripts.
void write_doubles(const std::filesystem::path& path, const std::vector<double>& values);
std::vector<double> read_doubles(const std::filesystem::path& path);  // empty if missing

// Restores the OpenMP thread count when a test that changes it ends.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

// Same dtype, shape and bytes (NaN payloads and signed zeros included).
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  if (a.numel() == 0) return true;  // an empty tensor may have no storage: memcmp must not see null
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), size_t(ca.numel()) * ca.element_size()) == 0;
}

// Element-wise closeness |a - b| <= atol + rtol |b| (nan == nan); returns the
// first mismatch as text, or empty.
std::string compare_close(const std::vector<double>& actual, const std::vector<double>& expected,
                          double rtol, double atol);

}  // namespace dlt::testing
