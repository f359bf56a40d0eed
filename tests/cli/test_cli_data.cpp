// `dlt data ...` end to end through the binary: imports, inspect, bench,
// and bad input, which must end with one "error: ..." line and exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "tests/test_util.h"
#include "dlt/data/h5_writer.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"
#include "tests/data/image_files.h"

namespace dlt::data {
namespace {

using dlt::testing::CliResult;
using dlt::testing::run_dlt;
namespace fs = std::filesystem;
using testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Expects exit status 2 and exactly one line: "error: ..." with every piece.
void expect_one_line_error(const CliResult& r, std::initializer_list<std::string> pieces) {
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, StartsWith("error: "));
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const std::string& p : pieces) EXPECT_THAT(r.output, HasSubstr(p));
}

void write_mini_mnist(const TempDir& tmp) {
  std::vector<uint8_t> images(20 * 28 * 28), labels(20);
  for (size_t i = 0; i < images.size(); ++i) images[i] = uint8_t(i % 256);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t(i % 10);
  for (const char* split : {"train", "t10k"}) {
    testing::write_idx_gz(tmp.path(std::string(split) + "-images-idx3-ubyte.gz"), {20, 28, 28}, images);
    testing::write_idx_gz(tmp.path(std::string(split) + "-labels-idx1-ubyte.gz"), {20}, labels);
  }
}

TEST(CliData, ImportFashionMnistThenInspectAndBench) {
  TempDir tmp;
  write_mini_mnist(tmp);
  const std::string out = tmp.path("fm.h5");
  const CliResult imp = run_dlt("data import fashion-mnist --src " + tmp.dir() + " --out " + out +
                                " --chunk-rows 8 --compress 4");
  ASSERT_EQ(imp.status, 0) << imp.output;
  EXPECT_THAT(imp.output, HasSubstr("wrote " + out));

  const CliResult info = run_dlt("data inspect " + out);
  ASSERT_EQ(info.status, 0) << info.output;
  for (const char* piece : {"train/", "test/", "images: uint8 [20, 28, 28], chunks [8, 28, 28], gzip 4",
                            "labels: int64 [20]", "@class_names = [\"T-shirt/top\"",
                            "first values: 0 1 2 3 4 5 6 7 ...", "sample 0: min 0, max 255"})
    EXPECT_THAT(info.output, HasSubstr(piece));

  const CliResult bench = run_dlt("data bench " + out + " --batch 8 --workers 2 --to-float "
                                  "--mean 0.5 --std 0.25 --crop-padding 2 --hflip --shuffle chunked");
  ASSERT_EQ(bench.status, 0) << bench.output;
  EXPECT_THAT(bench.output, HasSubstr("3 batches, 20 samples"));
  EXPECT_THAT(bench.output, HasSubstr("samples/s"));
  EXPECT_THAT(bench.output, HasSubstr("MB/s"));
  const CliResult json = run_dlt("data bench " + out + " --keys test/images --batch 8 --json");
  ASSERT_EQ(json.status, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("\"samples\": 20, \"batches\": 3"));
}

TEST(CliData, ImportTextFromStdinAndBenchWindows) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "And God said, Let there be light: and there was light.\n";
  testing::write_file(tmp.path("kjv.txt"), text);
  const std::string out = tmp.path("kjv.h5");
  const CliResult r = run_dlt("data import text - --out " + out + " --vocab chars --val-fraction 0.1 < " +
                              tmp.path("kjv.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("train/"));
  EXPECT_THAT(r.output, HasSubstr("tokens: uint8 [9900]"));
  EXPECT_THAT(r.output, HasSubstr("tokens: uint8 [1100]"));
  EXPECT_THAT(run_dlt("data inspect " + out).output, HasSubstr("@source = \"stdin\""));
  const CliResult bench = run_dlt("data bench " + out + " --tokens val/tokens --block-size 64 "
                                  "--random-offsets --batch 4");
  ASSERT_EQ(bench.status, 0) << bench.output;
  EXPECT_THAT(bench.output, HasSubstr("5 batches, 17 samples"));  // (1100 - 1) / 64 windows
}

TEST(CliData, ImportCsv) {
  TempDir tmp;
  testing::write_file(tmp.path("t.csv"), "x1,x2,y\n1,2,0\n3,4,1\n5,6,1\n");
  const CliResult r = run_dlt("data import csv " + tmp.path("t.csv") + " --label y --out " + tmp.path("t.h5"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("features: float32 [3, 2]"));
  EXPECT_THAT(r.output, HasSubstr("labels: int64 [3]"));
  testing::write_file(tmp.path("bad.csv"), "x1,x2,y\n1,2,0\n3,four,1\n");
  expect_one_line_error(run_dlt("data import csv " + tmp.path("bad.csv") + " --label y --out " + tmp.path("b.h5")),
                        {tmp.path("bad.csv") + ":3: column 2 ('x2'): 'four' is not a number"});
}

// Two classes a CNN tells apart: reddish images with a bright left half, and
// bluish ones with a bright top half; PNGs and JPEGs of several sizes.
void write_image_folder(const std::string& dir, int per_class) {
  for (int label = 0; label < 2; ++label) {
    const std::string class_dir = dir + (label == 0 ? "/red" : "/blue");
    fs::create_directories(class_dir);
    for (int i = 0; i < per_class; ++i) {
      const int w = 12 + 4 * (i % 3), h = 12 + 2 * (i % 2);
      std::vector<uint8_t> rgb;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const bool bright = label == 0 ? x < w / 2 : y < h / 2;
          const auto v = uint8_t((bright ? 160 : 40) + (x * 7 + y * 3 + i * 11) % 40);
          rgb.insert(rgb.end(), {label == 0 ? v : uint8_t(v / 3), uint8_t(60), label == 0 ? uint8_t(v / 3) : v});
        }
      if (i % 2)
        testing::write_jpeg(fmt::format("{}/{}.jpg", class_dir, i), w, h, 3, rgb);
      else
        testing::write_rgb_png(fmt::format("{}/{}.png", class_dir, i), w, h, rgb);
    }
  }
}

TEST(CliData, ImportImagesThenTrainACnn) {
  TempDir tmp;
  write_image_folder(tmp.path("photos"), 24);
  const std::string out = tmp.path("photos.h5");
  const CliResult imp = run_dlt("data import images " + tmp.path("photos") + " --out " + out +
                                " --size 16x16 --val-fraction 0.25 --seed 3 --chunk-rows 8 --compress 1");
  ASSERT_EQ(imp.status, 0) << imp.output;
  EXPECT_THAT(imp.output, HasSubstr("2 classes: 36 training and 12 validation images"));
  EXPECT_THAT(imp.output, HasSubstr("images: uint8 [36, 3, 16, 16], chunks [8, 3, 16, 16], gzip 1"));
  EXPECT_THAT(imp.output, HasSubstr("labels: int64 [12]"));
  EXPECT_THAT(run_dlt("data inspect " + out).output, HasSubstr("@class_names = [\"blue\", \"red\"]"));

  testing::write_file(tmp.path("cnn.yaml"), fmt::format(R"(name: images_cnn
seed: 0
data:
  file: {}
  train: {{x: train/images, y: train/labels}}
  val: {{x: val/images, y: val/labels}}
  batch_size: 8
  workers: 2
  to_float: true
model:
  - {{type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}}
  - {{type: ReLU}}
  - {{type: MaxPool2d, kernel_size: 2}}
  - {{type: Flatten}}
  - {{type: Linear, out: 2}}
loss: cross_entropy
optim: {{name: adamw, lr: 0.01}}
train: {{steps: 16, log_every: 1, eval_every: 8}}
)", out));
  const CliResult train = run_dlt("train " + tmp.path("cnn.yaml") + " --run-dir " + tmp.path("run"));
  ASSERT_EQ(train.status, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("final: step 16 val loss"));
  const auto losses = dlt::testing::train_losses(tmp.path("run"));
  ASSERT_EQ(losses.size(), 16u);
  EXPECT_LT(losses.back().second, losses.front().second);
}

TEST(CliData, ImportImagesSkipsBadFilesOnRequest) {
  TempDir tmp;
  write_image_folder(tmp.path("photos"), 4);
  const std::string bad = tmp.path("photos/red/bad.png");
  testing::write_file(bad, "\x89PNG\r\n\x1a\n truncated");
  const std::string out = tmp.path("out.h5");
  const std::string args = "data import images " + tmp.path("photos") + " --out " + out + " --size 8x8 --val-fraction 0.25 --seed 0";

  const CliResult fail = run_dlt(args);
  expect_one_line_error(fail, {bad + ": PNG: ", "--on-error skip"});
  EXPECT_TRUE(testing::dir_entries(tmp.dir()) == std::vector<std::string>{"photos"});  // nothing written

  const CliResult skip = run_dlt(args + " --on-error skip --channels 1");
  ASSERT_EQ(skip.status, 0) << skip.output;
  EXPECT_THAT(skip.output, HasSubstr("skipped " + bad + ": PNG: "));
  EXPECT_THAT(skip.output, HasSubstr("skipped 1 in all"));
  EXPECT_THAT(skip.output, HasSubstr("2 classes: 6 training and 2 validation images"));
  EXPECT_THAT(skip.output, HasSubstr("images: uint8 [6, 1, 8, 8]"));
}

TEST(CliDataBadInput, ImageFolderProblems) {
  TempDir tmp;
  expect_one_line_error(run_dlt("data import images " + tmp.path("none") + " --out " + tmp.path("o.h5")),
                        {tmp.path("none"), "no such folder"});
  write_image_folder(tmp.path("photos"), 2);
  expect_one_line_error(run_dlt("data import images " + tmp.path("photos") + " --out " + tmp.path("o.h5") +
                                " --size 64by64"),
                        {"image size '64by64'", "expected HxW"});
  expect_one_line_error(run_dlt("data import images " + tmp.path("photos") + " --out " + tmp.path("o.h5") +
                                " --val-fraction 0"),
                        {"(HxW) but", "pass --size HxW"});
  EXPECT_FALSE(fs::exists(tmp.path("o.h5")));
  EXPECT_FALSE(fs::exists(tmp.path("o.h5.partial")));
}

TEST(CliData, EverySubcommandHasHelpWithAnExample) {
  for (const char* cmd : {"data", "data import", "data import fashion-mnist", "data import text",
                          "data import csv", "data import images", "data inspect", "data bench",
                          "data decode", "data encode"}) {
    const CliResult r = run_dlt(std::string(cmd) + " --help");
    EXPECT_EQ(r.status, 0) << cmd << "\n" << r.output;
    EXPECT_THAT(r.output, ::testing::ContainsRegex("Example: .*dlt data")) << cmd;
  }
}

// The model trained in one process decodes the stored tokens in another:
// the val split gives back the end of the text exactly.
TEST(CliData, ImportSentencePieceThenDecodeAndEncode) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  const std::string text = testing::sample_text(80'000);
  testing::write_file(tmp.path("t.txt"), text);
  const std::string out = tmp.path("sp.h5");
  const CliResult r = run_dlt("data import text " + tmp.path("t.txt") + " --tokenizer sentencepiece "
                              "--vocab-size 400 --val-fraction 0.05 --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("tokenizer: sentencepiece bpe (400)"));
  EXPECT_THAT(run_dlt("data inspect " + out).output, HasSubstr("tokenizer: sentencepiece bpe (400)"));

  const size_t split = text.size() - size_t(std::llround(double(text.size()) * 0.05));
  const CliResult val = run_dlt("data decode " + out + " --split val > " + tmp.path("val.txt"));
  ASSERT_EQ(val.status, 0) << val.output;
  EXPECT_EQ(testing::read_file(tmp.path("val.txt")), text.substr(split));
  const CliResult head = run_dlt("data decode " + out + " --split train --start 0 --count 12");
  ASSERT_EQ(head.status, 0) << head.output;
  EXPECT_EQ(head.output, text.substr(0, head.output.size()));
  EXPECT_GT(head.output.size(), 12u);

  const CliResult ids = run_dlt("data encode " + out + " --text 'the LORD said unto him:\tcaf\xc3\xa9 \xe6\x97\xa5'");
  ASSERT_EQ(ids.status, 0) << ids.output;
  const CliResult back = run_dlt("data decode " + out + " --ids '" + ids.output.substr(0, ids.output.size() - 1) + "'");
  ASSERT_EQ(back.status, 0) << back.output;
  EXPECT_EQ(back.output, "the LORD said unto him:\tcaf\xc3\xa9 \xe6\x97\xa5");
}

TEST(CliData, DecodeAndEncodeCharacterTokens) {
  TempDir tmp;
  testing::write_file(tmp.path("t.txt"), "abba cab\n");
  const std::string out = tmp.path("c.h5");
  ASSERT_EQ(run_dlt("data import text " + tmp.path("t.txt") + " --vocab chars --val-fraction 0 --out " + out).status, 0);
  EXPECT_THAT(run_dlt("data inspect " + out).output, HasSubstr("tokenizer: chars (5)"));
  EXPECT_EQ(run_dlt("data encode " + out + " --text 'cab'").output, "4 2 3\n");
  EXPECT_EQ(run_dlt("data decode " + out + " --split train --start 5 --count 3").output, "cab");
  expect_one_line_error(run_dlt("data encode " + out + " --text 'cad'"),
                        {"character U+0064 'd' at byte 2", "not in the character vocabulary of " + out});
  expect_one_line_error(run_dlt("data decode " + out + " --ids '1 2 7'"),
                        {"token id 7 (at position 2)", "outside [0, 5)", "chars (5)"});
  expect_one_line_error(run_dlt("data decode " + out + " --ids '1 two'"), {"--ids: 'two' is not a token id"});
  expect_one_line_error(run_dlt("data decode " + out + " --split train --start 8 --count 2"),
                        {out, "tokens 8..10 are outside 'train/tokens', which has 9"});
  expect_one_line_error(run_dlt("data decode " + out), {out, "no dataset 'val/tokens'"});
  const std::string plain = testing::write_arrays(tmp.path("a.h5"), 4);
  expect_one_line_error(run_dlt("data decode " + plain + " --ids 1"), {plain, "no tokenizer"});
}

TEST(CliDataBadInput, SentencePieceOptions) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  testing::write_file(tmp.path("t.txt"), testing::sample_text(20'000));
  const std::string import = "data import text " + tmp.path("t.txt") + " --out " + tmp.path("o.h5");
  expect_one_line_error(run_dlt(import + " --vocab-size 500"),
                        {"--vocab-size is an option of --vocab sentencepiece, not of --vocab bytes"});
  expect_one_line_error(run_dlt(import + " --vocab chars --model-type unigram"),
                        {"--model-type is an option of --vocab sentencepiece, not of --vocab chars"});
  expect_one_line_error(run_dlt(import + " --vocab sentencepiece"), {"--vocab sentencepiece needs --vocab-size"});
  expect_one_line_error(run_dlt(import + " --vocab sentencepiece --vocab-size 280"),
                        {tmp.path("t.txt"), "cannot train a bpe vocabulary of 280", "required_chars"});
  expect_one_line_error(run_dlt(import + " --vocab sentencepiece --vocab-size 90000 --model-type unigram"),
                        {tmp.path("t.txt"), "cannot train a unigram vocabulary of 90000", "too high"});
  EXPECT_FALSE(std::filesystem::exists(tmp.path("o.h5")));
  EXPECT_FALSE(std::filesystem::exists(tmp.path("o.h5.partial")));
  EXPECT_EQ(run_dlt(import + " --vocab sentencepiece --vocab-size 400 --model-type wordpiece").status, 2);
}

TEST(CliDataBadInput, MissingFile) {
  TempDir tmp;
  expect_one_line_error(run_dlt("data inspect " + tmp.path("nope.h5")), {tmp.path("nope.h5"), "no such file"});
  expect_one_line_error(run_dlt("data bench " + tmp.path("nope.h5")), {tmp.path("nope.h5"), "no such file"});
  expect_one_line_error(run_dlt("data import text " + tmp.path("nope.txt") + " --out " + tmp.path("o.h5")),
                        {tmp.path("nope.txt"), "no such file"});
}

TEST(CliDataBadInput, GarbageAndTruncatedFiles) {
  TempDir tmp;
  testing::write_file(tmp.path("junk.h5"), std::string(1000, '\x7f'));
  expect_one_line_error(run_dlt("data inspect " + tmp.path("junk.h5")),
                        {tmp.path("junk.h5"), "not a readable HDF5 file"});
  const std::string cut = testing::write_arrays(tmp.path("cut.h5"), 500);
  testing::truncate_file(cut, 3000);
  expect_one_line_error(run_dlt("data bench " + cut + " --keys x,y"), {cut, "truncated"});
}

TEST(CliDataBadInput, MissingKeyAndMismatchedCounts) {
  TempDir tmp;
  const std::string f = testing::write_arrays(tmp.path("a.h5"), 10);
  expect_one_line_error(run_dlt("data bench " + f), {f, "no dataset 'train/images'", "the file has: x, y"});
  {
    H5Writer w(tmp.path("m.h5"));
    const std::vector<uint8_t> x(10);
    w.write("x", DType::u8, {10}, x.data());
    w.write("y", DType::u8, {9}, x.data());
    w.commit();
  }
  expect_one_line_error(run_dlt("data bench " + tmp.path("m.h5") + " --keys x,y"),
                        {tmp.path("m.h5"), "'x' has 10 samples but 'y' has 9"});
}

TEST(CliDataBadInput, UnsupportedDtypeAndEmptyDataset) {
  TempDir tmp;
  testing::write_raw(tmp.path("u16.h5"), "x", H5T_NATIVE_UINT16, {4, 3});
  expect_one_line_error(run_dlt("data bench " + tmp.path("u16.h5") + " --keys x"),
                        {tmp.path("u16.h5"), "'x' holds uint16 values"});
  {
    H5Writer w(tmp.path("e.h5"));
    w.write("x", DType::f32, {0, 3}, nullptr);
    w.commit();
  }
  expect_one_line_error(run_dlt("data bench " + tmp.path("e.h5") + " --keys x"),
                        {tmp.path("e.h5"), "'x' is empty"});
}

TEST(CliDataBadInput, BatchLargerThanTheDatasetWithDropLast) {
  TempDir tmp;
  const std::string f = testing::write_arrays(tmp.path("a.h5"), 10);
  expect_one_line_error(run_dlt("data bench " + f + " --keys x,y --batch 32 --drop-last"),
                        {f, "[x, y]", "batch size 32", "10 samples", "drop_last"});
}

TEST(CliDataBadInput, CorruptChunkFoundByAWorker) {
  TempDir tmp;
  const std::string f = testing::write_arrays(tmp.path("c.h5"), 40000, {.chunk_rows = 64, .compress = 1});
  testing::corrupt_chunk(f, "x", 600);
  expect_one_line_error(run_dlt("data bench " + f + " --keys x,y --shuffle none --workers 3"),
                        {f, "reading rows", "of 'x' failed"});
}

}  // namespace
}  // namespace dlt::data
