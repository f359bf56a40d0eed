// Restores the OpenMP thread count when a test that changes it ends.
// (Reductions keep a copy of this in their tests: a candidate for test_util.h.)
#pragma once

#include "dlt/core/parallel.h"

namespace dlt::testing {

class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

}  // namespace dlt::testing
