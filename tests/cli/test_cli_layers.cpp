// dlt layers: every registered layer type with its options, through the binary.
#include <gtest/gtest.h>

#include <string>

#include "dlt/nn/registry.h"
#include "tests/cli/run_dlt.h"

namespace {

using dlt::testing::run_dlt;

TEST(CliLayers, ListsEveryRegisteredTypeWithItsOptions) {
  const auto r = run_dlt("layers");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string listing = "\n" + r.output;
  // The test binary links the same layers as dlt.
  for (const std::string& type : dlt::nn::registered_layers()) {
    EXPECT_NE(listing.find("\n" + type + ": "), std::string::npos) << type << " missing in"
                                                                  << listing;
    const dlt::nn::LayerInfo* info = dlt::nn::layer_info(type);
    ASSERT_NE(info, nullptr) << type << " has no option table";
    for (const dlt::nn::LayerOption& o : info->options)
      EXPECT_NE(r.output.find("  " + std::string(o.key) + " "), std::string::npos)
          << type << "." << o.key << " missing";
  }
}

TEST(CliLayers, OneTypeShowsDefaultsMeaningsAndAnExample) {
  const auto r = run_dlt("layers Conv2d");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("Conv2d: 2-D convolution", 0), 0u) << r.output;
  for (const char* line : {"out_channels  required  output channels", "stride        1 ",
                           "bias          true ", "example: {type: Conv2d"})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << " missing in\n" << r.output;
  EXPECT_EQ(r.output.find("MaxPool2d"), std::string::npos) << r.output;
}

TEST(CliLayers, UnknownTypeExits2WithTheClosestName) {
  const auto r = run_dlt("layers Conv2");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("error: unknown layer type 'Conv2' (did you mean 'Conv2d'?)"),
            std::string::npos)
      << r.output;
}

}  // namespace
