// Tokenizers: round trips of the bytes and chars vocabularies, the ids and
// characters they refuse, and load_tokenizer on token files and on files
// without (or with a broken) tokenizer.
#include <gtest/gtest.h>

#include "dlt/data/import/importers.h"
#include "dlt/data/tokenizer.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;
using testing::TempDir;

TEST(Tokenizer, BytesRoundTripAnyBytes) {
  const auto t = make_bytes_tokenizer();
  const std::string text("caf\xc3\xa9 \xff\x00\n", 9);  // invalid UTF-8 and NUL are fine
  const auto ids = t->encode(text);
  EXPECT_EQ(ids, (std::vector<int64_t>{'c', 'a', 'f', 0xc3, 0xa9, ' ', 0xff, 0, '\n'}));
  EXPECT_EQ(t->decode(ids), text);
  EXPECT_EQ(t->vocab_size(), 256);
  EXPECT_EQ(t->describe(), "bytes (256)");
}

TEST(Tokenizer, CharsRoundTrip) {
  const auto t = make_chars_tokenizer(" !abcf\xc3\xa9", "v.h5");
  const std::string text = "abba caf\xc3\xa9!";
  const auto ids = t->encode(text);
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 3, 3, 2, 0, 4, 2, 5, 6, 1}));
  EXPECT_EQ(t->decode(ids), text);
  EXPECT_EQ(t->vocab_size(), 7);
  EXPECT_EQ(t->describe(), "chars (7)");
}

TEST(Tokenizer, CharsRefuseACharacterOutsideTheVocabulary) {
  const auto t = make_chars_tokenizer("abc", "v.h5");
  expect_error([&] { t->encode("ab\xc3\xa9"); },
               {"character U+00E9 '\xc3\xa9' at byte 2", "not in the character vocabulary of v.h5",
                "3 characters"});
  expect_error([&] { t->encode("abc\n"); }, {"U+000A '\\n' at byte 3"});
  expect_error([&] { t->encode("a\xff"); }, {"text to encode: invalid UTF-8 at byte 1"});
}

TEST(Tokenizer, BadCharacterVocabularies) {
  expect_error([] { make_chars_tokenizer("", "v.h5"); }, {"v.h5", "empty"});
  expect_error([] { make_chars_tokenizer("abca", "v.h5"); }, {"v.h5", "holds U+0061 'a' twice"});
  expect_error([] { make_chars_tokenizer("ab\xe2", "v.h5"); }, {"v.h5", "invalid UTF-8 at byte 2"});
}

TEST(Tokenizer, IdsOutsideTheVocabularyAreNamed) {
  const auto bytes = make_bytes_tokenizer();
  const std::vector<int64_t> big{65, 66, 256};
  expect_error([&] { bytes->decode(big); }, {"token id 256 (at position 2)", "outside [0, 256)", "bytes (256)"});
  const auto chars = make_chars_tokenizer("ab", "v.h5");
  const std::vector<int64_t> negative{-1};
  expect_error([&] { chars->decode(negative); }, {"token id -1", "outside [0, 2)", "chars (2)"});
}

TEST(Tokenizer, LoadedFromTheTokenFilesOfTheTextImport) {
  TempDir tmp;
  const std::string text = "In the beginning God created the heaven and the earth.\n\xc3\xa9";
  testing::write_file(tmp.path("t.txt"), text);
  for (const Vocab vocab : {Vocab::bytes, Vocab::chars}) {
    TextImport o;
    o.vocab = vocab;
    o.val_fraction = 0.25;
    import_text(tmp.path("t.txt"), tmp.path("t.h5"), o);
    const auto t = load_tokenizer(tmp.path("t.h5"));
    EXPECT_EQ(t->describe(), vocab == Vocab::bytes ? "bytes (256)" : "chars (19)");
    auto ids = read_token_ids(tmp.path("t.h5"), "train/tokens");
    const auto val = read_token_ids(tmp.path("t.h5"), "val/tokens");
    ids.insert(ids.end(), val.begin(), val.end());
    EXPECT_EQ(t->decode(ids), text);
    EXPECT_EQ(t->encode(text), ids);
  }
}

TEST(Tokenizer, FilesWithoutAUsableTokenizer) {
  DLT_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir tmp;
  const std::string plain = testing::write_arrays(tmp.path("a.h5"), 4);
  expect_error([&] { load_tokenizer(plain); }, {plain, "no tokenizer", "no @vocab attribute"});
  expect_error([&] { load_tokenizer(tmp.path("none.h5")); }, {tmp.path("none.h5"), "no such file"});

  const auto with_attributes = [&](const std::string& name, auto&& set) {
    H5Writer w(tmp.path(name));
    const std::vector<uint8_t> tokens{1, 2, 3};
    w.write("train/tokens", DType::u8, {3}, tokens.data());
    set(w);
    w.commit();
    return tmp.path(name);
  };
  const std::string unknown = with_attributes("u.h5", [](H5Writer& w) { w.set_attribute("/", "vocab", std::string("words")); });
  expect_error([&] { load_tokenizer(unknown); }, {unknown, "unknown @vocab \"words\""});
  const std::string no_chars = with_attributes("c.h5", [](H5Writer& w) { w.set_attribute("/", "vocab", std::string("chars")); });
  expect_error([&] { load_tokenizer(no_chars); }, {no_chars, "no @chars attribute"});
  const std::string wrong_size = with_attributes("s.h5", [](H5Writer& w) {
    w.set_attribute("/", "vocab", std::string("chars"));
    w.set_attribute("/", "chars", std::string("abc"));
    w.set_attribute("/", "vocab_size", int64_t(4));
  });
  expect_error([&] { load_tokenizer(wrong_size); }, {wrong_size, "@vocab_size is 4", "has 3 tokens"});
  const std::string not_a_string = with_attributes("n.h5", [](H5Writer& w) { w.set_attribute("/", "vocab", int64_t(3)); });
  expect_error([&] { load_tokenizer(not_a_string); }, {not_a_string, "attribute 'vocab'", "must be one string"});
  const std::string no_model = with_attributes("m.h5", [](H5Writer& w) {
    w.set_attribute("/", "vocab", std::string("sentencepiece"));
  });
  expect_error([&] { load_tokenizer(no_model); }, {no_model, "no 'tokenizer/model' dataset"});
  const std::string bad_model = with_attributes("b.h5", [](H5Writer& w) {
    w.set_attribute("/", "vocab", std::string("sentencepiece"));
    const std::string junk = "not a model";
    w.write(kSentencePieceModelKey, DType::u8, {int64_t(junk.size())}, junk.data());
  });
  expect_error([&] { load_tokenizer(bad_model); }, {bad_model, "SentencePiece model (11 bytes) does not load"});
}

}  // namespace
}  // namespace dlt::data
