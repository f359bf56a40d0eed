// config::Node: values, structure and every error, each with its file:line:col.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tests/data/fixtures.h"
#include "dlt/config/yaml_reader.h"
#include "tests/test_util.h"

namespace dlt::config {
namespace {

using dlt::testing::expect_error;

// The message of the dlt::Error that f throws ("" if none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kModel = R"(model:
  layers:
    - type: Linear
      out: 64
    - type: ReLU
    - type: Linear
      out: big
      shape: [2, x]
name: mlp
)";

TEST(YamlReader, ReadsTypedValues) {
  const Node root = load_string(R"(b: true
n: -12
big: 9007199254740993
f: 2.5e-3
i_as_f: 3
inf: -.inf
s: hello
num_string: "12"
shape: [3, 28, 28]
one: 7
empty: []
names: [bias, norm]
name: bias
)",
                                "t.yaml");
  EXPECT_TRUE(root.get<bool>("b"));
  EXPECT_EQ(root.get<int64_t>("n"), -12);
  EXPECT_EQ(root.get<int64_t>("big"), 9007199254740993);
  EXPECT_DOUBLE_EQ(root.get<double>("f"), 2.5e-3);
  EXPECT_DOUBLE_EQ(root.get<double>("i_as_f"), 3.0);
  EXPECT_EQ(root.get<double>("inf"), -INFINITY);
  EXPECT_EQ(root.get<std::string>("s"), "hello");
  EXPECT_EQ(root.get<std::string>("num_string"), "12");
  EXPECT_EQ(root.get<Shape>("shape"), (Shape{3, 28, 28}));
  EXPECT_EQ(root.get<Shape>("one"), (Shape{7}));
  EXPECT_EQ(root.get<Shape>("empty"), Shape{});
  EXPECT_EQ(root.get<std::vector<std::string>>("names"), (std::vector<std::string>{"bias", "norm"}));
  EXPECT_EQ(root.get<std::vector<std::string>>("name"), (std::vector<std::string>{"bias"}));
  EXPECT_EQ(root.get_or<int64_t>("missing", 5), 5);
  EXPECT_EQ(root.get_or<int64_t>("n", 5), -12);
}

TEST(YamlReader, StructureAndPaths) {
  const Node root = load_string(kModel, "configs/x.yaml");
  EXPECT_TRUE(root.is_map());
  EXPECT_EQ(root.keys(), (std::vector<std::string>{"model", "name"}));
  EXPECT_TRUE(root.has("name"));
  EXPECT_FALSE(root.has("nam"));
  EXPECT_FALSE(root.find("nam").has_value());
  const Node layers = root.at("model").at("layers");
  EXPECT_TRUE(layers.is_sequence());
  EXPECT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers.at(2).path(), "model.layers[2]");
  EXPECT_EQ(layers.at(2).at("out").path(), "model.layers[2].out");
  EXPECT_EQ(layers.at(2).at("out").location(), "configs/x.yaml:7:12");
  EXPECT_EQ(layers.at(0).get<int64_t>("out"), 64);
  EXPECT_TRUE(layers.at(1).at("type").is_scalar());
  EXPECT_EQ(root.file(), "configs/x.yaml");
}

TEST(YamlReader, WrongTypesNameWhatWasExpectedAndFound) {
  const Node root = load_string(kModel, "configs/x.yaml");
  const Node layers = root.at("model").at("layers");
  EXPECT_EQ(error_of([&] { layers.at(2).get<int64_t>("out"); }),
            "configs/x.yaml:7:12: model.layers[2].out: expected an integer, got 'big'");
  EXPECT_EQ(error_of([&] { layers.at(2).get<Shape>("shape"); }),
            "configs/x.yaml:8:18: model.layers[2].shape[1]: expected an integer, got 'x'");
  EXPECT_EQ(error_of([&] { layers.at(2).get<double>("type"); }),
            "configs/x.yaml:6:13: model.layers[2].type: expected a number, got 'Linear'");
  EXPECT_EQ(error_of([&] { root.get<bool>("name"); }),
            "configs/x.yaml:9:7: name: expected true or false, got 'mlp'");
  EXPECT_EQ(error_of([&] { root.get<std::string>("model"); }),
            "configs/x.yaml:2:3: model: expected a string, got a map");
  EXPECT_EQ(error_of([&] { root.at("model").get<int64_t>("layers"); }),
            "configs/x.yaml:3:5: model.layers: expected an integer, got a list");
  EXPECT_EQ(error_of([&] { root.at("model").get<Shape>("layers"); }),
            "configs/x.yaml:3:7: model.layers[0]: expected an integer, got a map");
  EXPECT_EQ(error_of([&] { root.get<Shape>("model"); }),
            "configs/x.yaml:2:3: model: expected a shape (an integer or a list of integers), got "
            "a map");
  EXPECT_EQ(error_of([&] { root.get<std::vector<std::string>>("model"); }),
            "configs/x.yaml:2:3: model: expected a list of strings, got a map");
  EXPECT_EQ(error_of([&] { layers.get<std::vector<std::string>>("x"); }),
            "configs/x.yaml:3:5: model.layers: expected a map with key 'x', got a list");
}

TEST(YamlReader, ScalarEdgeCases) {
  const Node root = load_string(R"(quoted: "12"
frac: 2.5
huge: 99999999999999999999
empty:
plus: +3
hex: 0x10
bad_double: 1.2.3
)",
                                "t.yaml");
  EXPECT_EQ(error_of([&] { root.get<int64_t>("quoted"); }),
            "t.yaml:1:9: quoted: expected an integer, got '12' (a quoted string)");
  EXPECT_EQ(error_of([&] { root.get<int64_t>("frac"); }),
            "t.yaml:2:7: frac: expected an integer, got '2.5'");
  EXPECT_EQ(error_of([&] { root.get<int64_t>("huge"); }),
            "t.yaml:3:7: huge: expected an integer, got '99999999999999999999' (out of the "
            "64-bit range)");
  // An empty value is reported at its key, not at the next line.
  EXPECT_EQ(error_of([&] { root.get<int64_t>("empty"); }),
            "t.yaml:4:1: empty: expected an integer, got nothing");
  EXPECT_EQ(root.get_or<int64_t>("empty", 4), 4);  // empty means "use the default"
  EXPECT_EQ(root.get<int64_t>("plus"), 3);
  EXPECT_EQ(error_of([&] { root.get<int64_t>("hex"); }),
            "t.yaml:6:6: hex: expected an integer, got '0x10'");
  EXPECT_EQ(error_of([&] { root.get<double>("bad_double"); }),
            "t.yaml:7:13: bad_double: expected a number, got '1.2.3'");
}

TEST(YamlReader, MissingKeysAndIndices) {
  const Node root = load_string(kModel, "configs/x.yaml");
  EXPECT_EQ(error_of([&] { root.at("model").at("layers").at(1).at("out"); }),
            "configs/x.yaml:5:7: model.layers[1]: missing required key 'out'");
  EXPECT_EQ(error_of([&] { root.at("data"); }), "configs/x.yaml:1:1: missing required key 'data'");
  EXPECT_EQ(error_of([&] { root.at("model").at("layers").at(3); }),
            "configs/x.yaml:3:5: model.layers: index 3 out of range (the list has 3 elements)");
  EXPECT_EQ(error_of([&] { root.at("model").at(0); }),
            "configs/x.yaml:2:3: model: expected a list, got a map");
  EXPECT_EQ(error_of([&] { root.at("name").keys(); }),
            "configs/x.yaml:9:7: name: expected a map, got 'mlp'");
}

TEST(YamlReader, UnknownKeysSuggestTheClosest) {
  const Node root = load_string("optim:\n  name: sgd\n  lrr: 0.1\n", "o.yaml");
  const Node optim = root.at("optim");
  EXPECT_EQ(error_of([&] { optim.check_keys({"name", "lr", "momentum"}); }),
            "o.yaml:3:3: optim: unknown key 'lrr'; did you mean 'lr'?");
  EXPECT_EQ(error_of([&] { optim.check_keys({"name", "momentum"}); }),
            "o.yaml:3:3: optim: unknown key 'lrr' (expected one of: name, momentum)");
  EXPECT_EQ(error_of([&] { root.check_keys({"data"}); }),
            "o.yaml:1:1: unknown key 'optim' (expected one of: data)");
  EXPECT_NO_THROW(optim.check_keys({"name", "lrr"}));
  EXPECT_EQ(error_of([&] { optim.at("name").check_keys({"a"}); }),
            "o.yaml:2:9: optim.name: expected a map, got 'sgd'");
  // An empty section has no keys to check.
  EXPECT_NO_THROW(load_string("a:\n", "e.yaml").at("a").check_keys({"b"}));
}

TEST(YamlReader, ClosestMatch) {
  const std::vector<std::string> layers = {"Linear", "Conv2d", "ReLU", "BatchNorm2d", "LayerNorm"};
  EXPECT_EQ(closest_match("Linaer", layers), "Linear");
  EXPECT_EQ(closest_match("conv2d", layers), "Conv2d");
  EXPECT_EQ(closest_match("Conv2D", layers), "Conv2d");
  EXPECT_EQ(closest_match("Batchnorm2D", layers), "BatchNorm2d");
  EXPECT_EQ(closest_match("relu", layers), "ReLU");
  EXPECT_EQ(closest_match("Transformer", layers), "");
  EXPECT_EQ(closest_match("x", {"lr"}), "");     // one letter is no typo of two
  EXPECT_EQ(closest_match("lrr", {"lr"}), "lr");
  EXPECT_EQ(closest_match("batchsize", {"batch_size", "block_size"}), "batch_size");
  EXPECT_EQ(closest_match("anything", {}), "");
}

TEST(YamlReader, SyntaxErrorsPointIntoTheFile) {
  EXPECT_EQ(error_of([] { load_string("a: [1, 2\nb: 3\n", "x.yaml"); }),
            "x.yaml:2:2: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(error_of([] { load_string("a: 1\n\tb: 2\n", "x.yaml"); }),
            "x.yaml:2:1: invalid YAML: illegal tab when looking for indentation");
  // yaml-cpp keeps duplicate keys and reads the first: refuse them instead.
  EXPECT_EQ(error_of([] { load_string("optim:\n  lr: 1\n  lr: 2\n", "d.yaml"); }),
            "d.yaml:3:3: optim: duplicate key 'lr'");
  EXPECT_EQ(error_of([] { load_string("[1]: 2\n", "k.yaml"); }),
            "k.yaml:1:1: keys must be plain names, got a list");
  expect_error([] { load_string("a: &x [1, *x]\n", "r.yaml"); },
               {"r.yaml:", "nested deeper than 64 levels (a recursive alias?)"});
}

TEST(YamlReader, EmptyDocumentIsNull) {
  const Node root = load_string("", "empty.yaml");
  EXPECT_TRUE(root.is_null());
  EXPECT_EQ(root.keys(), std::vector<std::string>{});
  EXPECT_EQ(error_of([&] { root.at("data"); }), "empty.yaml: missing required key 'data'");
}

TEST(YamlReader, LoadsFiles) {
  data::testing::TempDir dir;
  const std::string path = dir.path("run.yaml");
  std::ofstream(path) << "train:\n  epochs: ten\n";
  const Node root = load_file(path);
  EXPECT_EQ(error_of([&] { root.at("train").get<int64_t>("epochs"); }),
            path + ":2:11: train.epochs: expected an integer, got 'ten'");

  const std::string broken = dir.path("broken.yaml");
  std::ofstream(broken) << "a: 1\nb: [\n";
  expect_error([&] { load_file(broken); }, {broken + ":", ": invalid YAML: "});

  EXPECT_EQ(error_of([&] { load_file(dir.path("nope.yaml")); }),
            "cannot open '" + dir.path("nope.yaml") + "': No such file or directory");
  EXPECT_EQ(error_of([&] { load_file(dir.dir()); }),
            "cannot read '" + dir.dir() + "': Is a directory");
}

TEST(YamlReader, ValuesFromAnotherSourceNameIt) {
  Node root = load_string("optim:\n  lr: 0.1\n", "o.yaml");
  YAML::Node root_yaml = root.yaml();
  YAML::Node value = YAML::Load("fast");
  root_yaml["optim"]["lr"] = value;
  YAML::Node added = YAML::Load("1");
  root_yaml["optim"]["lrr"] = added;
  root = root.with_source(value, "--set optim.lr=fast").with_source(added, "--set optim.lrr=1");
  EXPECT_EQ(error_of([&] { root.at("optim").get<double>("lr"); }),
            "--set optim.lr=fast: optim.lr: expected a number, got 'fast'");
  EXPECT_EQ(error_of([&] { root.at("optim").check_keys({"lr"}); }),
            "--set optim.lrr=1: optim: unknown key 'lrr'; did you mean 'lr'?");
  // The rest of the document still points into the file.
  EXPECT_EQ(root.at("optim").location(), "o.yaml:2:3");
}

}  // namespace
}  // namespace dlt::config
