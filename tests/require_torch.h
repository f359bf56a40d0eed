// DLT_REQUIRE_TORCH(): the first line of a test that compares with torch.
// Skips the test, loudly, when torch_python() (tests/test_util.h) cannot
// import torch.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

#include "tests/test_util.h"

#define DLT_REQUIRE_TORCH()                                                                       \
  do {                                                                                            \
    if (!::dlt::testing::torch_available()) {                                                     \
      std::fprintf(stderr, "SKIPPED: %s cannot import torch (apt-get install python3-torch)\n",   \
                   ::dlt::testing::torch_python());                                               \
      GTEST_SKIP() << "SKIPPED LOUDLY: " << ::dlt::testing::torch_python() << " cannot import torch"; \
    }                                                                                             \
  } while (0)
