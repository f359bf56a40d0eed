// The process-wide TF32 switch: read from DLT_ALLOW_TF32 at start-up, set by
// dlt::set_allow_tf32.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "dlt/core/math_mode.h"

namespace dlt {
namespace {

TEST(MathMode, Tf32FollowsEnvironmentThenSetter) {
  const char* env = std::getenv("DLT_ALLOW_TF32");
  const bool from_env = env != nullptr && std::string(env) == "1";
  const bool before = allow_tf32();
  EXPECT_EQ(before, from_env);  // no test changes it for good
  set_allow_tf32(true);
  EXPECT_TRUE(allow_tf32());
  set_allow_tf32(false);
  EXPECT_FALSE(allow_tf32());
  set_allow_tf32(before);
}

}  // namespace
}  // namespace dlt
