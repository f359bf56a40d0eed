// Disk faults through the dlt binary: a checkpoint folder that fills up
// (ENOSPC) or is read-only while a checkpoint is written ends the run with
// an error naming the file, exit 2, the previous checkpoint intact and still
// `latest`, nothing half-written left; and a corrupt newest checkpoint makes
// --resume fall back to the one before it. The small file systems are tmpfs
// mounts in a mount namespace of the test's own (`unshare -rm`), so no
// privileges are needed; where the kernel forbids that, the tests say so and
// skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "dlt/train/checkpoint.h"
#include "dlt/train/file_io.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using dlt::testing::run_shell;
using ::testing::HasSubstr;

bool can_mount_tmpfs() {
  static const bool ok =
      run_shell("d=$(mktemp -d) && unshare -rm sh -c \"mount -t tmpfs -o size=64k tmpfs $d\"; s=$?; rmdir $d; exit $s")
          .status == 0;
  return ok;
}

#define SKIP_WITHOUT_TMPFS()                                                                         \
  if (!can_mount_tmpfs())                                                                            \
  GTEST_SKIP() << "SKIPPED: `unshare -rm` cannot mount a tmpfs here (user namespaces disabled?); " \
                  "the disk-fault tests need one"

// 24 steps of an MLP whose checkpoints (model + AdamW state) take ~40 KB.
std::string write_config(const TempDir& tmp) {
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string path = tmp.path("disk.yaml");
  data::testing::write_file(path, fmt::format(R"(name: disk
seed: 1
data: {{file: {}, train: {{x: train/x, y: train/y}}, batch_size: 8, workers: 1}}
model: [{{type: Linear, out: 384}}, {{type: ReLU}}, {{type: Linear, out: 3}}]
optim: {{name: adamw, lr: 0.01}}
train: {{steps: 24, log_every: 1}}
checkpoint: {{every: 5, keep: 20}}
)",
                                              tmp.path("data.h5")));
  return path;
}

// Runs `dlt train` with its checkpoints on a fresh tmpfs of `options`
// ("size=100k", "ro") inside a mount namespace, then copies what the
// checkpoint folder holds to `copy` (the mount vanishes with the namespace).
CliResult train_on_tmpfs(const TempDir& tmp, const std::string& cfg, const std::string& options, const fs::path& copy) {
  const std::string mnt = tmp.path("mnt");
  fs::create_directories(mnt);
  fs::create_directories(copy);
  return run_shell(fmt::format(
      "unshare -rm sh -c 'mount -t tmpfs -o {0} tmpfs {1} && {2} train {3} --run-dir {4} --set checkpoint.dir={1}; "
      "s=$?; cp -a {1}/. {5}/; exit $s'",
      options, mnt, dlt::testing::dlt_program(), cfg, tmp.path("run"), copy.string()));
}

TEST(DiskFaults, AFullDiskKeepsThePreviousCheckpoint) {
  SKIP_WITHOUT_TMPFS();
  TempDir tmp;
  const std::string cfg = write_config(tmp);
  const fs::path after = tmp.path("after");
  const CliResult r = train_on_tmpfs(tmp, cfg, "size=100k", after);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("No space left on device"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("error: .*step-[0-9]+\\.tmp-[0-9]+/(model|optimizer)\\.safetensors"));
  int64_t newest = 0;
  for (const std::string& name : data::testing::dir_entries(after)) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name << " was left behind";
    if (name.starts_with("step-")) newest = std::max<int64_t>(newest, std::stoll(name.substr(5)));
  }
  ASSERT_GT(newest, 0) << "no checkpoint fitted: make the tmpfs larger";
  EXPECT_LT(newest, 24) << "every checkpoint fitted: make the tmpfs smaller";
  EXPECT_EQ(read_file(after / "latest"), CheckpointStore::step_name(newest) + "\n");
  EXPECT_EQ(load_checkpoint(after / CheckpointStore::step_name(newest)).state.step, newest);  // checksums verified
}

TEST(DiskFaults, AReadOnlyCheckpointFolderIsAClearError) {
  SKIP_WITHOUT_TMPFS();
  TempDir tmp;
  const fs::path after = tmp.path("after");
  const CliResult r = train_on_tmpfs(tmp, write_config(tmp), "ro,size=100k", after);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Read-only file system"));
  EXPECT_TRUE(data::testing::dir_entries(after).empty());
}

// The newest checkpoint damaged after the run: --resume names the file,
// goes back one checkpoint, and ends with the uninterrupted run's weights.
TEST(DiskFaults, ACorruptNewestCheckpointFallsBackToThePreviousOne) {
  TempDir tmp;
  const std::string cfg = write_config(tmp);
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, a.string())).status, 0);
  fs::create_directories(b / "checkpoints");
  for (const char* step : {"step-10", "step-15"})
    fs::copy(a / "checkpoints" / step, b / "checkpoints" / step, fs::copy_options::recursive);
  std::string model = read_file(b / "checkpoints/step-15/model.safetensors");
  model[model.size() - 2] ^= 0x01;
  data::testing::write_file((b / "checkpoints/step-15/model.safetensors").string(), model);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, b.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("warning: " + (b / "checkpoints/step-15/model.safetensors").string() + " is corrupt"));
  EXPECT_THAT(r.output, HasSubstr("resuming from " + (b / "checkpoints/step-10").string()));
  EXPECT_EQ(read_file(b / "checkpoints/step-24/model.safetensors"), read_file(a / "checkpoints/step-24/model.safetensors"));
  EXPECT_TRUE(fs::exists(b / "checkpoints/step-15.corrupt"));  // kept aside, and step-15 written anew
  // Every checkpoint damaged: an error, not a fresh start.
  const fs::path c = tmp.path("c");
  fs::create_directories(c / "checkpoints");
  fs::copy(b / "checkpoints" / "step-15.corrupt", c / "checkpoints" / "step-15", fs::copy_options::recursive);
  const CliResult none = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, c.string()));
  EXPECT_EQ(none.status, 2) << none.output;
  EXPECT_THAT(none.output, HasSubstr("is corrupt"));
}

}  // namespace
}  // namespace dlt::train
