// Shared by the libFuzzer targets: the input as a file (for readers that
// take a path), and the rule every target checks: bad input is a dlt::Error
// (a message for the user), never a crash, a hang or another exception.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "dlt/core/error.h"

namespace dlt::fuzz {

// `data` written to a file of this process (reused by every input).
inline std::filesystem::path as_file(const uint8_t* data, size_t size, const char* suffix) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("dlt-fuzz-" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// Runs `f`; a dlt::Error is the expected answer to bad input.
template <class F> void expect_error_or_success(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

}  // namespace dlt::fuzz
