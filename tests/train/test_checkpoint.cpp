// The checkpoint store: round trips, atomic saves (a failed save leaves the
// previous checkpoint and `latest` as they were), keep-K and best pruning,
// and damaged files.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "dlt/train/checkpoint.h"
#include "dlt/train/file_io.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::expect_error;
using dlt::testing::to_vector;

Checkpoint make_checkpoint(int64_t step, double val_loss = 1.0) {
  Checkpoint c;
  c.state.step = step;
  c.state.epoch = step / 10;
  c.state.cursor = {step / 10, step % 10};
  c.state.rngs = {{"default", {42, uint64_t(step) * 1000}}, {"dropout", {~0ull, 7}}};
  c.state.config_hash = "abc123";
  c.state.metrics = {{"val_loss", val_loss}, {"train_loss", NAN}};
  c.model = {{"0.weight", full({4, 3}, double(step))}, {"0.bias", zeros({4})},
             {"1.num_batches_tracked", scalar_tensor(step, DType::i64)}};
  c.optimizer = {{"exp_avg.0.weight", full({4, 3}, 0.5)}, {"step", scalar_tensor(step, DType::i64)}};
  return c;
}

TEST(Checkpoint, SavesAndLoadsEverything) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  EXPECT_FALSE(store.latest());
  const Checkpoint in = make_checkpoint(12, 0.75);
  const fs::path dir = store.save(in);
  EXPECT_EQ(dir, fs::path(tmp.path("ckpt/step-12")));
  EXPECT_EQ(data::testing::dir_entries(dir), (std::vector<std::string>{"model.safetensors", "optimizer.safetensors", "state.json"}));
  EXPECT_EQ(read_file(tmp.path("ckpt/latest")), "step-12\n");
  EXPECT_EQ(store.latest(), dir);

  const Checkpoint out = load_checkpoint(dir);
  EXPECT_EQ(out.state.step, 12);
  EXPECT_EQ(out.state.epoch, 1);
  EXPECT_EQ(out.state.cursor, (data::Cursor{1, 2}));
  EXPECT_EQ(out.state.rngs, in.state.rngs);  // including a full 64-bit seed
  EXPECT_EQ(out.state.config_hash, "abc123");
  EXPECT_EQ(out.state.metrics.at("val_loss"), 0.75);
  EXPECT_TRUE(std::isnan(out.state.metrics.at("train_loss")));
  EXPECT_EQ(to_vector<double>(out.model.at("0.weight")), std::vector<double>(12, 12.0));
  EXPECT_EQ(out.model.at("1.num_batches_tracked").dtype(), DType::i64);
  EXPECT_EQ(to_vector<double>(out.optimizer.at("exp_avg.0.weight"))[0], 0.5);
  check_same_tensors("x", out.model, in.model);  // same names, shapes, dtypes
}

TEST(Checkpoint, NeverOverwritesAnExistingCheckpoint) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  store.save(make_checkpoint(5));
  Checkpoint other = make_checkpoint(5);
  other.model["0.weight"] = full({4, 3}, -1.0);
  expect_error([&] { store.save(other); }, {"step-5 already exists; not overwriting"});
  EXPECT_EQ(to_vector<double>(load_checkpoint(tmp.path("ckpt/step-5")).model.at("0.weight"))[0], 5.0);
}

// A save that fails part way (here: an undefined optimizer tensor after the
// model file was written) leaves no trace and the previous checkpoint intact.
TEST(Checkpoint, AFailedSaveLeavesThePreviousCheckpointIntact) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  store.save(make_checkpoint(1));
  Checkpoint bad = make_checkpoint(2);
  bad.optimizer["broken"] = Tensor();
  expect_error([&] { store.save(bad); }, {"optimizer.safetensors", "\"broken\" is undefined"});
  EXPECT_EQ(data::testing::dir_entries(tmp.path("ckpt")), (std::vector<std::string>{"latest", "step-1"}));
  EXPECT_EQ(read_file(tmp.path("ckpt/latest")), "step-1\n");
  EXPECT_EQ(load_checkpoint(*store.latest()).state.step, 1);
}

// The same when the disk refuses the bytes: a file size limit makes write()
// fail with EFBIG (SIGXFSZ ignored), as a full disk would with ENOSPC.
TEST(Checkpoint, AWriteErrorFromTheSystemLeavesThePreviousCheckpointIntact) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  store.save(make_checkpoint(1));
  Checkpoint big = make_checkpoint(2);
  big.model["0.weight"] = zeros({1000, 100});

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  expect_error([&] { store.save(big); }, {"cannot write", "model.safetensors", "File too large"});
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);

  EXPECT_EQ(data::testing::dir_entries(tmp.path("ckpt")), (std::vector<std::string>{"latest", "step-1"}));
  EXPECT_EQ(load_checkpoint(*store.latest()).state.step, 1);
}

TEST(Checkpoint, KeepsTheMostRecentAndTheBest) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"), {.keep = 2, .best_metric = "val_loss"});
  const double losses[] = {0.9, 0.3, 0.5, 0.6, 0.7, 0.2, 0.8};
  for (int i = 0; i < 7; ++i) store.save(make_checkpoint((i + 1) * 10, losses[i]));
  // the two latest (60, 70) and the lowest val_loss (60: 0.2; before it, 20: 0.3)
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{60, 70}));

  TempDir tmp2;
  CheckpointStore by_max(tmp2.path("ckpt"), {.keep = 1, .best_metric = "val_loss", .maximize = true});
  for (int i = 0; i < 7; ++i) by_max.save(make_checkpoint((i + 1) * 10, losses[i]));
  EXPECT_EQ(by_max.steps(), (std::vector<int64_t>{10, 70}));  // 0.9 is the highest

  TempDir tmp3;
  CheckpointStore plain(tmp3.path("ckpt"), {.keep = 3});
  for (int i = 0; i < 5; ++i) plain.save(make_checkpoint(i, losses[i]));
  EXPECT_EQ(plain.steps(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(data::testing::dir_entries(tmp3.path("ckpt")), (std::vector<std::string>{"latest", "step-2", "step-3", "step-4"}));
}

TEST(Checkpoint, LatestIsTheHighestCompleteStepAndStaleTemporariesGo) {
  TempDir tmp;
  const fs::path dir = tmp.path("ckpt");
  {
    CheckpointStore store(dir);
    store.save(make_checkpoint(3));
    store.save(make_checkpoint(4));
  }
  // A crash between the rename and `latest`: step-4 is complete, latest says step-3.
  write_file_atomic(dir / "latest", "step-3\n");
  // A crash mid-save of a process that is gone (pid 2^22 + 1 is above pid_max's default).
  fs::create_directory(dir / "step-5.tmp-4194305");
  data::testing::write_file((dir / "step-5.tmp-4194305" / "model.safetensors").string(), "partial");
  CheckpointStore store(dir);
  EXPECT_FALSE(fs::exists(dir / "step-5.tmp-4194305"));
  EXPECT_EQ(store.latest(), dir / "step-4");
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{3, 4}));
}

TEST(CheckpointBadInput, DamagedFilesNameTheFile) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  const fs::path dir = store.save(make_checkpoint(7));
  const std::string state = read_file(dir / "state.json");
  const std::string model = read_file(dir / "model.safetensors");

  data::testing::write_file((dir / "state.json").string(), state.substr(0, state.size() / 2));
  expect_error([&] { (void)load_checkpoint(dir); }, {(dir / "state.json").string(), "invalid JSON"});
  data::testing::write_file((dir / "state.json").string(), R"({"format": "dlt-checkpoint-1", "step": -1})");
  expect_error([&] { (void)load_checkpoint(dir); }, {"state.json", "missing key \"epoch\""});
  std::string wrong_type = state;
  wrong_type.replace(wrong_type.find("\"step\":7"), 8, "\"step\":\"7\"");
  data::testing::write_file((dir / "state.json").string(), wrong_type);
  expect_error([&] { (void)load_checkpoint(dir); }, {"state.json", "step: expected an integer, got a string"});
  data::testing::write_file((dir / "state.json").string(), R"({"format": "other"})");
  expect_error([&] { (void)load_checkpoint(dir); }, {"format is \"other\""});
  data::testing::write_file((dir / "state.json").string(), state);

  data::testing::write_file((dir / "model.safetensors").string(), model.substr(0, model.size() - 3));
  expect_error([&] { (void)load_checkpoint(dir); },
               {(dir / "model.safetensors").string(), "is corrupt: it has", fmt::format("state.json recorded {} bytes", model.size())});
  fs::remove(dir / "optimizer.safetensors");
  data::testing::write_file((dir / "model.safetensors").string(), model);
  expect_error([&] { (void)load_checkpoint(dir); }, {(dir / "optimizer.safetensors").string(), "is missing"});
  expect_error([&] { (void)load_checkpoint(tmp.path("ckpt/step-99")); }, {"step-99 does not exist"});
}

// state.json records each tensor file's size and CRC-32; one flipped bit in
// a tensor's bytes (which the safetensors reader cannot see) is found.
TEST(CheckpointBadInput, AFlippedBitFailsTheChecksum) {
  TempDir tmp;
  CheckpointStore store(tmp.path("ckpt"));
  const fs::path dir = store.save(make_checkpoint(7));
  const TrainState state = load_train_state(dir / "state.json");
  ASSERT_EQ(state.files.size(), 2u);
  EXPECT_EQ(state.files.at("model.safetensors"), checksum_file(dir / "model.safetensors"));
  std::string model = read_file(dir / "model.safetensors");
  model[model.size() - 5] ^= 0x10;  // in the last tensor's data
  data::testing::write_file((dir / "model.safetensors").string(), model);
  expect_error([&] { (void)load_checkpoint(dir); }, {(dir / "model.safetensors").string(), "is corrupt", "CRC-32"});
  // A file list may name only files of the folder itself.
  const std::string original = read_file(dir / "state.json");
  std::string hostile = original;
  const std::string key = "\"model.safetensors\"";
  hostile.replace(hostile.find(key + ":{"), key.size(), "\"../model.safetensors\"");
  data::testing::write_file((dir / "state.json").string(), hostile);
  expect_error([&] { (void)load_checkpoint(dir); }, {"\"../model.safetensors\" is not a file name of the checkpoint folder"});
  data::testing::write_file((dir / "state.json").string(), original);
  // Checkpoints from before checksums (no "files") still load.
  std::string json = read_file(dir / "state.json");
  json.erase(json.find(",\"files\":"), json.find("}}", json.find(",\"files\":")) + 2 - json.find(",\"files\":"));
  data::testing::write_file((dir / "state.json").string(), json);
  EXPECT_EQ(load_checkpoint(dir).state.step, 7);
}

TEST(CheckpointBadInput, ADifferentModelListsEveryDifference) {
  const TensorMap current = {{"0.weight", zeros({4, 3})}, {"0.bias", zeros({4})}, {"2.bias", zeros({2})}};
  const TensorMap saved = {{"0.weight", zeros({5, 3})}, {"0.bias", zeros({4}, DType::f64)}, {"1.bias", zeros({2})}};
  expect_error([&] { check_same_tensors("checkpoint runs/x/step-3", saved, current); },
               {"checkpoint runs/x/step-3 does not match the model: missing 2.bias; unexpected 1.bias; "
                "different 0.bias (saved [4] float64, expected [4] float32), 0.weight (saved [5, 3] "
                "float32, expected [4, 3] float32)"});
}

}  // namespace
}  // namespace dlt::train
