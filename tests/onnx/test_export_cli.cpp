// dlt export end to end through the binary. Every config of configs/ (and
// tests/onnx/fashion_resnet.yaml for a ResNet) is trained for two steps on
// small synthetic data of its own layout, exported, and checked by
// check_export_ort.py: onnx's full check, ONNX Runtime against `dlt predict`
// within 1e-4 at batch sizes 1 and 5 (and, for the language models,
// sequence lengths block_size and 37), initializers bit-identical to the
// checkpoint's model.safetensors, a tied weight stored once, each file
// within 1.05 x its parameter bytes. And each bad input: one "error: ..."
// line, exit 2, no file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "dlt/config/experiment.h"
#include "dlt/data/array_dataset.h"
#include "dlt/data/h5_writer.h"
#include "dlt/data/loader.h"
#include "dlt/data/npy.h"
#include "dlt/data/transforms.h"
#include "dlt/ops/ops.h"
#include "dlt/train/experiment.h"
#include "dlt/train/safetensors.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"
#include "tests/onnx/export_test_util.h"

namespace dlt::onnx_export {
namespace {

namespace fs = std::filesystem;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using dlt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Fashion-MNIST's layout: "{train,test}/images" uint8 (N, 28, 28), "labels" int64.
void write_images(const std::string& path, Generator& gen) {
  data::H5Writer w(path);
  for (const auto& [split, n] : {std::pair{"train", 32}, std::pair{"test", 8}}) {
    const Tensor images = randint(0, 256, {n, 28, 28}, DType::u8, &gen);
    const Tensor labels = randint(0, 10, {n}, DType::i64, &gen);
    w.write(fmt::format("{}/images", split), DType::u8, {n, 28, 28}, images.raw_data());
    w.write(fmt::format("{}/labels", split), DType::i64, {n}, labels.raw_data());
  }
  w.commit();
}

// dlt data import text's layout: "train/tokens", "val/tokens" streams of ids
// below vocab, which the root's @vocab_size states.
void write_tokens(const std::string& path, int64_t vocab, Generator& gen) {
  data::H5Writer w(path);
  for (const auto& [split, n] : {std::pair{"train", 3000}, std::pair{"val", 600}}) {
    const Tensor ids = randint(0, vocab, {n}, DType::i64, &gen);
    w.write(fmt::format("{}/tokens", split), DType::i64, {n}, ids.raw_data());
  }
  w.set_attribute("/", "vocab_size", vocab);
  w.commit();
}

// Every row of `key` of an HDF5 file, as one tensor (N, ...).
Tensor read_rows(const std::string& path, const std::string& key) {
  auto ds = std::make_shared<data::ArrayDataset>(path, std::vector<std::string>{key});
  data::LoaderOptions o;
  o.batch_size = ds->size();
  o.sampler.shuffle = data::Shuffle::none;
  data::Loader loader(ds, o);
  return loader.next()->fields.at(0);
}

std::string source(const std::string& path) { return std::string(DLT_SOURCE_DIR) + "/" + path; }

// The configs to check: every one of configs/, and the ResNet test config.
std::vector<std::string> configs() {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(source("configs")))
    if (entry.path().extension() == ".yaml")
      paths.push_back("configs/" + entry.path().filename().string());
  std::sort(paths.begin(), paths.end());
  paths.push_back("tests/onnx/fashion_resnet.yaml");
  return paths;
}

TEST(OnnxExportCli, EveryConfigMatchesOnnxRuntimeAndPredictAndRoundTrips) {
  TempDir tmp("onnx_configs");
  Generator gen(5);
  write_images(tmp.path("images.h5"), gen);
  {  // what `dlt predict` reads: five images
    data::H5Writer w(tmp.path("images_in.h5"));
    const Tensor images = randint(0, 256, {5, 28, 28}, DType::u8, &gen);
    w.write("images", DType::u8, {5, 28, 28}, images.raw_data());
    w.commit();
  }
  const std::vector<std::string> paths = configs();
  ASSERT_GE(paths.size(), 7u);
  nlohmann::json manifest = nlohmann::json::array();
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const std::string name = fs::path(path).stem().string();
    const std::string cfg = source(path);
    const config::ExperimentSpec spec = config::load_experiment(cfg);
    const bool tokens = spec.data.kind == config::DataKind::tokens;
    // The model as the config builds it: its vocabulary (token data are
    // written with it) and its tied tensors (state-dict names of one tensor).
    const int64_t block = tokens ? spec.data.block_size : 0;
    const train::BuiltModel built = train::build_model(spec, tokens ? Shape{block} : Shape{28, 28});
    const int64_t vocab = tokens ? built.output_shape.back() : 0;
    const int64_t aliases =
        int64_t(built.module->state_dict().size() - built.module->named_parameters().size() -
                built.module->named_buffers().size());
    // Data in the config's layout: Fashion-MNIST's images, or token streams,
    // and the inputs `dlt predict` reads: windows of block_size and 37 ids.
    std::string data = tmp.path("images.h5"), inputs = tmp.path("images_in.h5");
    std::vector<std::string> keys{"images"};
    if (tokens) {
      data = tmp.path(name + "_tokens.h5");
      write_tokens(data, vocab, gen);
      inputs = tmp.path(name + "_in.h5");
      data::H5Writer w(inputs);
      keys = {"ids_long", "ids_short"};
      for (const auto& [key, t] :
           {std::pair{"ids_long", block}, std::pair{"ids_short", int64_t(37)}}) {
        const Tensor ids = randint(0, vocab, {5, t}, DType::i64, &gen);
        w.write(key, DType::i64, {5, t}, ids.raw_data());
      }
      w.commit();
    }
    // Two steps on the synthetic data: a checkpoint whose BatchNorm running
    // statistics have moved.
    const std::string sets = fmt::format(
        "--set data.file={} --set data.batch_size={} --set data.workers=1", data, tokens ? 4 : 8);
    const std::string train_sets =
        tokens ? "--set train.steps=2 --set schedule.warmup_steps=1"
               : "--set train.epochs=null --set train.steps=2 --set schedule.name=constant";
    const std::string run = tmp.path("run_" + name);
    const CliResult t =
        run_dlt(fmt::format("train {} --run-dir {} {} {}", cfg, run, sets, train_sets));
    ASSERT_EQ(t.status, 0) << t.output;
    const std::string onnx_file = name + ".onnx";
    const CliResult e = run_dlt(
        fmt::format("export {} --checkpoint {} --out {} {}", cfg, run, tmp.path(onnx_file), sets));
    ASSERT_EQ(e.status, 0) << e.output;
    EXPECT_THAT(e.output, StartsWith("wrote " + tmp.path(onnx_file)));
    std::printf("%s", e.output.c_str());

    // dlt predict's outputs for each input set; ONNX Runtime gets what the
    // model saw (the images after the eval transform: /255, mean, std).
    train::TensorMap io;
    int run_index = 0;
    for (const std::string& key : keys) {
      const std::string out = tmp.path(fmt::format("pred_{}_{}.h5", name, key));
      const CliResult p =
          run_dlt(fmt::format("predict {} --checkpoint {} --input {} --key {} --out {} {}", cfg,
                              run, inputs, key, out, sets));
      ASSERT_EQ(p.status, 0) << p.output;
      const Tensor outputs = read_rows(out, "outputs");
      Tensor x = read_rows(inputs, key);
      if (!tokens) {
        const data::SampleTransform transform(train::eval_loader_options(spec).transform,
                                              data::Field{"images", DType::u8, {28, 28}});
        Tensor model_x = empty({5, 28, 28}, DType::f32);
        for (int64_t i = 0; i < 5; ++i)
          transform.apply(static_cast<const std::byte*>(x.raw_data()) + i * 28 * 28,
                          model_x.data_ptr<float>() + i * 28 * 28, 0, 0, i);
        x = model_x;
      }
      // The round trip: dlt's importer runs the export and gives predict's outputs back.
      const std::string x_npy = tmp.path(fmt::format("x_{}_{}.npy", name, key));
      const std::string y_npy = tmp.path(fmt::format("y_{}_{}.npy", name, key));
      data::write_npy(x_npy, x);
      const CliResult r = run_dlt(fmt::format("onnx run {} --input {} --out {}",
                                              tmp.path(onnx_file), x_npy, y_npy));
      ASSERT_EQ(r.status, 0) << r.output;
      EXPECT_EQ(dlt::testing::compare_close(dlt::testing::to_vector<double>(data::read_npy(y_npy).to(DType::f64)),
                                            dlt::testing::to_vector<double>(outputs.to(DType::f64)), 1e-5, 1e-5),
                "")
          << "dlt onnx run against dlt predict, " << key;
      for (int64_t rows : {1, 5}) {  // two batch sizes
        io[fmt::format("input.{}", run_index)] = x.slice(0, 0, rows).contiguous();
        io[fmt::format("output.{}", run_index)] = outputs.slice(0, 0, rows).contiguous();
        ++run_index;
      }
    }
    train::save_safetensors(tmp.path(name + "_io.safetensors"), io);
    const std::string latest = data::testing::read_file(run + "/checkpoints/latest");
    const std::string state =
        run + "/checkpoints/" + latest.substr(0, latest.find('\n')) + "/model.safetensors";
    nlohmann::json entry = {{"name", name},   {"onnx", onnx_file}, {"io", name + "_io.safetensors"},
                            {"state", state}, {"seq", tokens},     {"aliases", aliases},
                            {"atol", 1e-4}};
    // The configs' models are large enough for the file to be their
    // parameters and little else; the ResNet test config's is not.
    if (path.starts_with("configs/")) entry["max_size_ratio"] = 1.05;
    manifest.push_back(entry);
    if (name == "kjv_gpt") {  // and once at opset 13, its LayerNorms decomposed
      const CliResult e13 = run_dlt(fmt::format("export {} --checkpoint {} --out {} --opset 13 {}",
                                                cfg, run, tmp.path("kjv_gpt_opset13.onnx"), sets));
      ASSERT_EQ(e13.status, 0) << e13.output;
      entry["name"] = "kjv_gpt (opset 13)";
      entry["onnx"] = "kjv_gpt_opset13.onnx";
      entry["opset"] = 13;
      manifest.push_back(entry);
    }
  }
  testing::run_ort_check(tmp.path("manifest.json"), manifest);
}

// A tiny classifier run for the error cases.
class OnnxExportCliErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    data::testing::write_classification(tmp.path("data.h5"), 32, 8, 6, 3);
    config = tmp.path("tiny.yaml");
    data::testing::write_file(config, fmt::format(R"(name: tiny
seed: 1
data:
  file: {}
  train: {{x: train/x, y: train/y}}
  val: {{x: val/x, y: val/y}}
  batch_size: 8
model:
  - {{type: Linear, out: 8}}
  - {{type: ReLU}}
  - {{type: Linear, out: 3}}
optim: {{name: sgd, lr: 0.1}}
train: {{steps: 2}}
)",
                                                  tmp.path("data.h5")));
    const CliResult t = run_dlt(fmt::format("train {} --run-dir {}", config, tmp.path("run")));
    ASSERT_EQ(t.status, 0) << t.output;
  }

  // `dlt export ARGS`: exit 2, one "error: ..." line with every piece, and no file at `out`.
  void expect_error(const std::string& args, const std::string& out,
                    std::initializer_list<std::string> pieces) {
    const CliResult r = run_dlt("export " + args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, StartsWith("error: "));
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const std::string& p : pieces) EXPECT_THAT(r.output, HasSubstr(p));
    EXPECT_FALSE(fs::exists(out)) << out;
    EXPECT_FALSE(fs::exists(out + ".tmp")) << out;
  }

  TempDir tmp{"onnx_cli"};
  std::string config;
};

TEST_F(OnnxExportCliErrors, ExportsAtTheDefaultAndAtAnotherOpset) {
  for (const char* opset : {"", " --opset 13"}) {
    const std::string out = tmp.path(fmt::format("tiny{}.onnx", *opset ? "13" : ""));
    const CliResult r = run_dlt(
        fmt::format("export {} --checkpoint {} --out {}{}", config, tmp.path("run"), out, opset));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output,
                HasSubstr(fmt::format("opset {}, input input (batch, 6), output logits; 3 nodes, 4 "
                                      "initializers",
                                      *opset ? 13 : 17)));
    EXPECT_TRUE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".tmp"));
  }
}

TEST_F(OnnxExportCliErrors, BadInputsExitTwoWithOneLineAndNoFile) {
  const std::string run = tmp.path("run"), out = tmp.path("m.onnx");
  expect_error(fmt::format("{} --checkpoint {} --out {}", tmp.path("missing.yaml"), run, out), out,
               {"missing.yaml"});
  expect_error(fmt::format("{} --checkpoint {} --out {} --set optim.lr=fast", config, run, out),
               out, {"optim.lr", "fast"});
  expect_error(fmt::format("{} --checkpoint {} --out {}", config, tmp.path("nowhere"), out), out,
               {"no checkpoint in", "nowhere"});
  // The checkpoint of another model: every mismatched tensor named.
  expect_error(fmt::format("{} --checkpoint {} --out {} --set model[2].out=4", config, run, out),
               out, {"2.weight"});
  expect_error(fmt::format("{} --checkpoint {} --out {} --set data.file={}", config, run, out,
                           tmp.path("no.h5")),
               out, {"data file", "no.h5", "does not exist"});
  const std::string deep = tmp.path("no/such/folder/m.onnx");
  expect_error(fmt::format("{} --checkpoint {} --out {}", config, run, deep), deep,
               {"cannot write --out", "does not exist"});
  EXPECT_FALSE(fs::exists(tmp.path("no")));
  expect_error(fmt::format("{} --checkpoint {} --out {}", config, run, tmp.dir()), out,
               {"is a folder"});
  for (const char* opset : {"12", "18"})
    expect_error(fmt::format("{} --checkpoint {} --out {} --opset {}", config, run, out, opset),
                 out, {fmt::format("opset {} is not one dlt exports: use 13 to 17", opset)});
}

}  // namespace
}  // namespace dlt::onnx_export
