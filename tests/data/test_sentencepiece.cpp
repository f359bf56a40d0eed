// SentencePiece vocabularies: the training sentences cut from a text, exact
// round trips of BPE and unigram models, deterministic training, and the
// vocabulary sizes and texts SentencePiece refuses.
#include <gtest/gtest.h>

#include <algorithm>

#include "dlt/data/import/sentencepiece_trainer.h"
#include "dlt/data/tokenizer.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;

// Small enough to train in well under a second, big enough for 400 ids.
const std::string& corpus() {
  static const std::string text = testing::sample_text(120'000);
  return text;
}

// Text a model never saw in training: runs of spaces, tabs, CR LF, empty
// lines, characters outside the corpus (CJK, an emoji) and no final newline.
const std::string kOddText =
    "  In the\tbeginning  \r\n\n\n\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 LORD:God,  x ";

TEST(SentencePiece, TrainingSentencesAreLinesWithLongOnesCut) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(training_sentences("a b\n\nc\n"), (V{"a b", "c"}));
  EXPECT_EQ(training_sentences("aaa bbb ccc", 8), (V{"aaa bbb", " ccc"}));
  // No space: cut at the last character boundary, never inside "é" (2 bytes).
  EXPECT_EQ(training_sentences("abcdefg\xc3\xa9h", 8), (V{"abcdefg", "\xc3\xa9h"}));
  const std::string one_line = std::string(10'000, 'x') + " " + std::string(5'000, 'y');
  const V parts = training_sentences(one_line);
  std::string joined;
  for (const std::string_view p : parts) {
    EXPECT_LE(p.size(), kMaxSentenceBytes);
    joined += p;
  }
  EXPECT_EQ(joined, one_line);
  // 4096 + 4096 + 1808 x's (cut before the space), then " y..." (4096) + 905 y's.
  EXPECT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[2].size(), 1808u);
}

TEST(SentencePiece, BpeAndUnigramRoundTripExactly) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  for (const char* type : {"bpe", "unigram"}) {
    SCOPED_TRACE(type);
    const std::string model = train_sentencepiece(corpus(), {400, type}, "corpus.txt");
    const auto t = make_sentencepiece_tokenizer(model, "corpus.txt");
    EXPECT_EQ(t->vocab_size(), 400);
    EXPECT_EQ(t->describe(), fmt::format("sentencepiece {} (400)", type));
    const std::vector<int64_t> ids = t->encode(corpus());
    EXPECT_LT(ids.size(), corpus().size() / 2);  // subwords: well under one token per byte
    EXPECT_TRUE(std::all_of(ids.begin(), ids.end(), [](int64_t id) { return id >= 0 && id < 400; }));
    EXPECT_EQ(t->decode(ids), corpus());
    EXPECT_EQ(t->decode(t->encode(kOddText)), kOddText);
    EXPECT_EQ(t->encode(""), std::vector<int64_t>{});
  }
}

TEST(SentencePiece, TrainingIsDeterministic) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  const std::string first = train_sentencepiece(corpus(), {400, "unigram"}, "c");
  EXPECT_EQ(train_sentencepiece(corpus(), {400, "unigram"}, "c"), first);
  const std::string bpe = train_sentencepiece(corpus(), {400, "bpe"}, "c");
  EXPECT_EQ(train_sentencepiece(corpus(), {400, "bpe"}, "c"), bpe);
  EXPECT_NE(train_sentencepiece(corpus(), {401, "bpe"}, "c"), bpe);
}

TEST(SentencePiece, TextWithoutNewlines) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  std::string one_line = corpus();
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  const auto t = make_sentencepiece_tokenizer(train_sentencepiece(one_line, {400, "bpe"}, "c"), "c");
  EXPECT_EQ(t->decode(t->encode(one_line)), one_line);
}

TEST(SentencePiece, VocabularySizesAndTypesItRefuses) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  expect_error([] { train_sentencepiece(corpus(), {257, "bpe"}, "c.txt"); },
               {"vocabulary of 257 ids is impossible", "more than 257"});
  expect_error([] { train_sentencepiece(corpus(), {280, "bpe"}, "c.txt"); },
               {"c.txt: SentencePiece cannot train a bpe vocabulary of 280",
                "Vocabulary size is smaller than required_chars"});
  expect_error([] { train_sentencepiece(corpus(), {100'000, "unigram"}, "c.txt"); },
               {"c.txt: SentencePiece cannot train a unigram vocabulary of 100000",
                "Vocabulary size too high"});
  expect_error([] { train_sentencepiece(corpus(), {400, "word"}, "c.txt"); },
               {"unknown SentencePiece model type 'word'"});
  expect_error([] { train_sentencepiece("", {400, "bpe"}, "empty.txt"); },
               {"empty.txt: SentencePiece cannot train"});
}

TEST(SentencePiece, EncodeRefusesBadUtf8AndDecodeBadIds) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  const auto t = make_sentencepiece_tokenizer(train_sentencepiece(corpus(), {400, "bpe"}, "c"), "c");
  expect_error([&] { t->encode("ok\xc3"); }, {"text to encode: invalid UTF-8 at byte 2"});
  const std::vector<int64_t> ids{5, 400};
  expect_error([&] { t->decode(ids); }, {"token id 400 (at position 1)", "outside [0, 400)"});
}

}  // namespace
}  // namespace dlt::data
