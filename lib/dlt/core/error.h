// Errors. DLT_CHECK is for anything a user can cause (shapes, dtypes, files,
// config); DLT_ASSERT is for internal invariants, i.e. bugs in dlt itself.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace dlt {

// A user-caused error: the CLI prints "error: <what>" and exits 2.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A broken invariant inside dlt: the CLI prints it and exits 1.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace dlt

#define DLT_CHECK(cond, ...)                                  \
  do {                                                        \
    if (!(cond)) [[unlikely]]                                 \
      throw ::dlt::Error(::fmt::format(__VA_ARGS__));         \
  } while (0)

#define DLT_ASSERT(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond)) [[unlikely]]                                                   \
      throw ::dlt::InternalError(::fmt::format(                                 \
          "internal error: `{}` failed at {}:{} {}", #cond, __FILE__, __LINE__, \
          ::fmt::format("" __VA_ARGS__)));                                      \
  } while (0)
