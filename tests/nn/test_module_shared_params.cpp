// A tensor registered by two modules (tied weights) is one parameter:
// named_parameters() lists it once, under its first name, as torch does;
// state_dict() lists it under every name; load_state_dict fills it.
#include "dlt/nn/module.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

class Holder : public nn::Module {
 public:
  explicit Holder(Tensor w) { register_parameter("weight", std::move(w)); }
  Tensor forward(const Tensor& x) override { return x; }
  std::string type() const override { return "Holder"; }
};

class Pair : public nn::Module {
 public:
  Pair() {
    const Tensor shared = zeros({2, 3});
    register_module("a", std::make_shared<Holder>(shared));
    register_module("own", std::make_shared<Holder>(ones({4})));
    register_module("b", std::make_shared<Holder>(shared));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string type() const override { return "Pair"; }
};

TEST(NN2ModuleSharing, SharedTensorIsOneParameter) {
  Pair pair;
  std::vector<std::string> names;
  for (const auto& [name, t] : pair.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.weight", "own.weight"}));
  EXPECT_EQ(pair.parameters().size(), 2u);
  EXPECT_EQ(pair.num_parameters(), 6 + 4);

  const auto state = pair.state_dict();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_TRUE(state.at("a.weight").is_same(state.at("b.weight")));

  auto values = state;
  values["a.weight"] = full({2, 3}, 5.0);
  values["b.weight"] = full({2, 3}, 5.0);
  values["own.weight"] = full({4}, 2.0);
  pair.load_state_dict(values);
  EXPECT_EQ(to_vector<double>(pair.state_dict().at("b.weight")), std::vector<double>(6, 5.0));
}

}  // namespace
}  // namespace dlt::testing
