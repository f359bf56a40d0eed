// Importers: synthetic Fashion-MNIST IDX files, text and CSV round trips,
// and the malformed inputs each must reject with file (and line) named.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dlt/data/import/idx.h"
#include "dlt/data/import/importers.h"
#include "dlt/data/inspect.h"
#include "dlt/data/loader.h"
#include "dlt/data/tokenizer.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;
using dlt::testing::to_vector;
using testing::read_all;
using testing::TempDir;
using ::testing::HasSubstr;

// A Fashion-MNIST folder in miniature: 4x3 images, 12 for train, 5 for test.
struct MiniMnist {
  TempDir tmp;
  std::vector<uint8_t> train_x, train_y, test_x, test_y;
  MiniMnist() {
    for (int i = 0; i < 12 * 12; ++i) train_x.push_back(uint8_t(i * 3));
    for (int i = 0; i < 12; ++i) train_y.push_back(uint8_t(i % 10));
    for (int i = 0; i < 5 * 12; ++i) test_x.push_back(uint8_t(255 - i));
    for (int i = 0; i < 5; ++i) test_y.push_back(uint8_t(9 - i));
    write();
  }
  void write() {
    testing::write_idx_gz(tmp.path("train-images-idx3-ubyte.gz"), {12, 4, 3}, train_x);
    testing::write_idx_gz(tmp.path("train-labels-idx1-ubyte.gz"), {12}, train_y);
    testing::write_idx_gz(tmp.path("t10k-images-idx3-ubyte.gz"), {5, 4, 3}, test_x);
    testing::write_idx_gz(tmp.path("t10k-labels-idx1-ubyte.gz"), {5}, test_y);
  }
};

std::vector<double> doubles(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

TEST(ImportFashionMnist, RoundTrip) {
  MiniMnist src;
  const std::string out = src.tmp.path("out/fm.h5");
  import_fashion_mnist(src.tmp.dir(), out);
  const auto train = read_all(out, {"train/images", "train/labels"});
  EXPECT_EQ(train[0], doubles(src.train_x));
  EXPECT_EQ(train[1], doubles(src.train_y));
  const auto test = read_all(out, {"test/images", "test/labels"});
  EXPECT_EQ(test[0], doubles(src.test_x));
  EXPECT_EQ(test[1], doubles(src.test_y));

  const std::string tree = inspect(out);
  EXPECT_THAT(tree, HasSubstr("images: uint8 [12, 4, 3], contiguous"));
  EXPECT_THAT(tree, HasSubstr("labels: int64 [5]"));
  EXPECT_THAT(tree, HasSubstr("@class_names = [\"T-shirt/top\", \"Trouser\""));
  EXPECT_THAT(tree, HasSubstr("\"Ankle boot\"] (10 values)"));
  EXPECT_THAT(tree, HasSubstr("@source = \"" + src.tmp.dir() + "\""));
}

TEST(ImportFashionMnist, ChunkedAndCompressedOnRequest) {
  MiniMnist src;
  const std::string out = src.tmp.path("fm.h5");
  import_fashion_mnist(src.tmp.dir(), out, {.chunk_rows = 4, .compress = 5});
  EXPECT_THAT(inspect(out), HasSubstr("images: uint8 [12, 4, 3], chunks [4, 4, 3], gzip 5"));
  EXPECT_EQ(read_all(out, {"train/images"})[0], doubles(src.train_x));
}

TEST(ImportFashionMnist, BadIdxFiles) {
  {
    MiniMnist src;  // labels that do not match the images
    testing::write_idx_gz(src.tmp.path("train-labels-idx1-ubyte.gz"), {11}, std::vector<uint8_t>(11));
    expect_error([&] { import_fashion_mnist(src.tmp.dir(), src.tmp.path("o.h5")); },
                 {"train-images-idx3-ubyte.gz holds 12 images", "11 labels"});
    EXPECT_FALSE(std::filesystem::exists(src.tmp.path("o.h5")));
    EXPECT_FALSE(std::filesystem::exists(src.tmp.path("o.h5.partial")));
  }
  {
    MiniMnist src;  // float32 elements
    testing::write_idx_gz(src.tmp.path("t10k-images-idx3-ubyte.gz"), {5, 4, 3}, src.test_x, 0x0D03);
    expect_error([&] { import_fashion_mnist(src.tmp.dir(), src.tmp.path("o.h5")); },
                 {"t10k-images-idx3-ubyte.gz", "element type 0x0d"});
  }
  {
    MiniMnist src;  // cut short
    src.train_x.resize(100);
    testing::write_idx_gz(src.tmp.path("train-images-idx3-ubyte.gz"), {12, 4, 3}, src.train_x);
    expect_error([&] { import_fashion_mnist(src.tmp.dir(), src.tmp.path("o.h5")); },
                 {"train-images-idx3-ubyte.gz: truncated", "needs 144 bytes", "found 100"});
  }
  {
    MiniMnist src;  // not IDX at all
    testing::write_idx_gz(src.tmp.path("train-labels-idx1-ubyte.gz"), {12}, src.train_y, 0x12345601);
    expect_error([&] { import_fashion_mnist(src.tmp.dir(), src.tmp.path("o.h5")); },
                 {"train-labels-idx1-ubyte.gz: not an IDX file"});
  }
  {
    MiniMnist src;  // a label that is not a class
    src.test_y[3] = 10;
    src.write();
    expect_error([&] { import_fashion_mnist(src.tmp.dir(), src.tmp.path("o.h5")); },
                 {"t10k-labels-idx1-ubyte.gz: label 10 of sample 3"});
  }
  TempDir empty;
  expect_error([&] { import_fashion_mnist(empty.dir(), empty.path("o.h5")); },
               {empty.path("train-images-idx3-ubyte.gz"), "no such file"});
}

TextImport text_options(double val_fraction, Vocab vocab = Vocab::bytes) {
  TextImport o;
  o.val_fraction = val_fraction;
  o.vocab = vocab;
  return o;
}

TEST(ImportText, BytesSplitIntoTrainAndVal) {
  TempDir tmp;
  const std::string text = "In the beginning God created the heaven and the earth.\n";  // 55 bytes
  testing::write_file(tmp.path("t.txt"), text);
  import_text(tmp.path("t.txt"), tmp.path("t.h5"), text_options(0.25));
  const auto train = read_all(tmp.path("t.h5"), {"train/tokens"})[0];
  const auto val = read_all(tmp.path("t.h5"), {"val/tokens"})[0];
  ASSERT_EQ(train.size(), 41u);  // val: round(55 / 4) = 14
  ASSERT_EQ(val.size(), 14u);
  for (size_t i = 0; i < text.size(); ++i)
    EXPECT_EQ(i < 41 ? train[i] : val[i - 41], double(uint8_t(text[i])));
  const std::string tree = inspect(tmp.path("t.h5"));
  EXPECT_THAT(tree, HasSubstr("@vocab = \"bytes\""));
  EXPECT_THAT(tree, HasSubstr("@vocab_size = 256"));
}

TEST(ImportText, CharacterVocabulary) {
  TempDir tmp;
  const std::string text = "abba caf\xc3\xa9!";  // 10 characters, é is two bytes
  testing::write_file(tmp.path("t.txt"), text);
  import_text(tmp.path("t.txt"), tmp.path("t.h5"), text_options(0, Vocab::chars));
  // Sorted vocabulary: ' ' ! a b c f é -> ids 0..6.
  const auto ids = read_all(tmp.path("t.h5"), {"train/tokens"})[0];
  EXPECT_EQ(ids, (std::vector<double>{2, 3, 3, 2, 0, 4, 2, 5, 6, 1}));
  const std::string tree = inspect(tmp.path("t.h5"));
  EXPECT_THAT(tree, HasSubstr("@chars = \" !abcf\xc3\xa9\""));
  EXPECT_THAT(tree, HasSubstr("@vocab_size = 7"));
  EXPECT_THAT(tree, ::testing::Not(HasSubstr("val/")));
}

TEST(ImportText, BadInput) {
  TempDir tmp;
  expect_error([&] { import_text(tmp.path("none.txt"), tmp.path("o.h5"), {}); },
               {tmp.path("none.txt"), "no such file"});
  testing::write_file(tmp.path("empty.txt"), "");
  expect_error([&] { import_text(tmp.path("empty.txt"), tmp.path("o.h5"), {}); }, {"no text"});
  testing::write_file(tmp.path("bad.txt"), "ok\xff\xfe");
  expect_error([&] { import_text(tmp.path("bad.txt"), tmp.path("o.h5"), text_options(0.1, Vocab::chars)); },
               {tmp.path("bad.txt"), "invalid UTF-8 at byte 2"});
  testing::write_file(tmp.path("one.txt"), "x");
  expect_error([&] { import_text(tmp.path("one.txt"), tmp.path("o.h5"), text_options(0.5)); },
               {"1 tokens cannot be split"});
  expect_error([&] { import_text(tmp.path("one.txt"), tmp.path("o.h5"), text_options(1)); },
               {"fraction must be in [0, 1)"});
}

TEST(ImportText, SentencePieceVocabulary) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  const std::string text = testing::sample_text(60'000);
  testing::write_file(tmp.path("t.txt"), text);
  TextImport o = text_options(0.1, Vocab::sentencepiece);
  o.vocab_size = 350;
  o.model_type = "unigram";
  import_text(tmp.path("t.txt"), tmp.path("t.h5"), o);
  const std::string tree = inspect(tmp.path("t.h5"));
  for (const char* piece : {"tokenizer: sentencepiece unigram (350)", "@vocab = \"sentencepiece\"",
                            "@vocab_size = 350", "@sentencepiece_model_type = \"unigram\"",
                            "model: uint8 [", "tokens: int32 ["})
    EXPECT_THAT(tree, HasSubstr(piece));

  // val holds the last 10% of the bytes, train the rest: each decodes exactly.
  const auto t = load_tokenizer(tmp.path("t.h5"));
  const size_t split = text.size() - size_t(std::llround(double(text.size()) * 0.1));
  EXPECT_EQ(t->decode(read_token_ids(tmp.path("t.h5"), "train/tokens")), text.substr(0, split));
  EXPECT_EQ(t->decode(read_token_ids(tmp.path("t.h5"), "val/tokens")), text.substr(split));

  // The same text and options give the same model, byte for byte.
  import_text(tmp.path("t.txt"), tmp.path("again.h5"), o);
  EXPECT_EQ(read_token_ids(tmp.path("again.h5"), kSentencePieceModelKey),
            read_token_ids(tmp.path("t.h5"), kSentencePieceModelKey));
}

TEST(ImportText, SentencePieceErrorsLeaveNoFile) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  testing::write_file(tmp.path("t.txt"), testing::sample_text(20'000));
  TextImport o = text_options(0.1, Vocab::sentencepiece);
  o.vocab_size = 270;
  expect_error([&] { import_text(tmp.path("t.txt"), tmp.path("o.h5"), o); },
               {tmp.path("t.txt"), "cannot train a bpe vocabulary of 270", "required_chars"});
  EXPECT_FALSE(std::filesystem::exists(tmp.path("o.h5")));
  EXPECT_FALSE(std::filesystem::exists(tmp.path("o.h5.partial")));
  testing::write_file(tmp.path("bad.txt"), "fine\nthen \xff");
  o.vocab_size = 300;
  expect_error([&] { import_text(tmp.path("bad.txt"), tmp.path("o.h5"), o); },
               {tmp.path("bad.txt"), "invalid UTF-8 at byte 10"});
  TextImport bytes = text_options(0.1);
  bytes.vocab_size = 300;
  expect_error([&] { import_text(tmp.path("t.txt"), tmp.path("o.h5"), bytes); },
               {"vocabulary size is chosen for the sentencepiece vocabulary only", "bytes"});
}

TEST(ImportCsv, WholeNumberLabelsBecomeInt64) {
  TempDir tmp;
  testing::write_file(tmp.path("iris.csv"),
                      "sepal_length, \"sepal, width\",species\r\n"
                      "5.1,3.5,0\r\n"
                      "\r\n"
                      "6.2, 2.9 ,1\r\n"
                      "-1e-3,+4,2\r\n");
  import_csv(tmp.path("iris.csv"), tmp.path("iris.h5"), "species");
  const auto v = read_all(tmp.path("iris.h5"), {"features", "labels"});
  const std::vector<double> features{5.1, 3.5, 6.2, 2.9, -1e-3, 4};
  ASSERT_EQ(v[0].size(), features.size());
  for (size_t i = 0; i < features.size(); ++i) EXPECT_FLOAT_EQ(float(v[0][i]), float(features[i]));
  EXPECT_EQ(v[1], (std::vector<double>{0, 1, 2}));
  const std::string tree = inspect(tmp.path("iris.h5"));
  EXPECT_THAT(tree, HasSubstr("features: float32 [3, 2]"));
  EXPECT_THAT(tree, HasSubstr("labels: int64 [3]"));
  EXPECT_THAT(tree, HasSubstr("@feature_names = [\"sepal_length\", \"sepal, width\"]"));
  EXPECT_THAT(tree, HasSubstr("@label = \"species\""));
}

TEST(ImportCsv, FractionalLabelsBecomeFloat32) {
  TempDir tmp;
  testing::write_file(tmp.path("r.csv"), "y,a,b\n0.5,1,2\n2,3,4\n");
  import_csv(tmp.path("r.csv"), tmp.path("r.h5"), "y", {.chunk_rows = 1, .compress = 1});
  const auto v = read_all(tmp.path("r.h5"), {"features", "labels"});
  EXPECT_EQ(v[0], (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(v[1], (std::vector<double>{0.5, 2}));
  EXPECT_THAT(inspect(tmp.path("r.h5")), HasSubstr("labels: float32 [2], chunks [1], gzip 1"));
}

TEST(ImportCsv, ErrorsNameFileLineAndColumn) {
  TempDir tmp;
  const std::string p = tmp.path("t.csv");
  testing::write_file(p, "a,b,label\n1,2,0\n3,oops,1\n");
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "label"); },
               {p + ":3: column 2 ('b'): 'oops' is not a number"});
  testing::write_file(p, "a,b,label\n1,2,0\n3,4\n");
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "label"); },
               {p + ":3: 2 cells, but the header has 3 columns"});
  testing::write_file(p, "a,b,label\n1,,0\n");
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "label"); }, {p + ":2: column 2 ('b'): ''"});
  testing::write_file(p, "a,b,label\n");
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "label"); }, {p, "no data rows"});
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "class"); },
               {p + ":1: no column 'class' (columns: a, b, label)"});
  testing::write_file(p, "");
  expect_error([&] { import_csv(p, tmp.path("o.h5"), "label"); }, {p, "empty file"});
  expect_error([&] { import_csv(tmp.path("nope.csv"), tmp.path("o.h5"), "label"); },
               {tmp.path("nope.csv"), "no such file"});
  EXPECT_FALSE(std::filesystem::exists(tmp.path("o.h5")));
}

}  // namespace
}  // namespace dlt::data
