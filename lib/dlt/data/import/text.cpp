// dlt data import text
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "dlt/data/import/importers.h"
#include "dlt/data/import/sentencepiece_trainer.h"
#include "dlt/data/tokenizer.h"
#include "dlt/data/utf8.h"

namespace dlt::data {

Vocab parse_vocab(std::string_view name) {
  if (name == "bytes") return Vocab::bytes;
  if (name == "chars") return Vocab::chars;
  if (name == "sentencepiece") return Vocab::sentencepiece;
  throw Error(fmt::format("unknown vocabulary '{}' (expected bytes, chars or sentencepiece)", name));
}

const char* vocab_name(Vocab vocab) {
  switch (vocab) {
    case Vocab::bytes: return "bytes";
    case Vocab::chars: return "chars";
    case Vocab::sentencepiece: return "sentencepiece";
  }
  return "?";
}

namespace {

std::string read_all(const std::string& input) {
  const bool stdin_ = input == "-";
  if (!stdin_) DLT_CHECK(std::filesystem::exists(input), "{}: no such file", input);
  FILE* f = stdin_ ? stdin : std::fopen(input.c_str(), "rb");
  DLT_CHECK(f != nullptr, "{}: cannot open: {}", input, std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  while (const size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  const bool failed = std::ferror(f);
  if (!stdin_) std::fclose(f);
  DLT_CHECK(!failed, "{}: read error", stdin_ ? "stdin" : input);
  return text;
}

// Writes tokens[begin, end) as <split>/tokens, uint8 if every id fits.
void write_tokens(H5Writer& w, const std::string& split, const std::vector<int32_t>& ids,
                  size_t begin, size_t end, int64_t vocab_size, const Layout& layout) {
  const Shape shape{int64_t(end - begin)};
  if (vocab_size <= 256) {
    const std::vector<uint8_t> narrow(ids.begin() + long(begin), ids.begin() + long(end));
    w.write(split + "/tokens", DType::u8, shape, narrow.data(), layout);
  } else {
    w.write(split + "/tokens", DType::i32, shape, ids.data() + begin, layout);
  }
}

// A text as token ids, the first n_train for train/tokens and the rest for
// val/tokens, with what the file must hold to decode them.
struct Tokens {
  std::vector<int32_t> ids;
  size_t n_train = 0;
  int64_t vocab_size = 256;
  std::string chars;  // chars: the vocabulary, in id order
  std::string model;  // sentencepiece: the bytes of the .model file
};

// The last `val_fraction` of the tokens (rounded) is val.
void split_tokens(Tokens& t, double val_fraction, const std::string& where) {
  const size_t n_val = size_t(std::llround(double(t.ids.size()) * val_fraction));
  t.n_train = t.ids.size() - n_val;
  DLT_CHECK(t.n_train > 0 && (val_fraction == 0 || n_val > 0),
            "{}: {} tokens cannot be split into train and a validation fraction of {}", where,
            t.ids.size(), val_fraction);
}

Tokens byte_tokens(const std::string& text) {
  Tokens t;
  t.ids.assign(text.begin(), text.end());
  for (int32_t& id : t.ids) id = int32_t(uint8_t(id));
  return t;
}

Tokens char_tokens(const std::string& text, const std::string& where) {
  Tokens t;
  const std::vector<char32_t> points = decode_utf8(text, where);
  std::vector<char32_t> vocab(points);
  std::sort(vocab.begin(), vocab.end());
  vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
  // The vocabulary is stored as one C string, which cannot hold a NUL.
  DLT_CHECK(vocab.front() != 0, "{}: the text contains NUL characters; use the bytes vocabulary",
            where);
  for (const char32_t c : vocab) append_utf8(t.chars, c);
  t.ids.reserve(points.size());
  for (const char32_t c : points)
    t.ids.push_back(int32_t(std::lower_bound(vocab.begin(), vocab.end(), c) - vocab.begin()));
  t.vocab_size = int64_t(vocab.size());
  return t;
}

// The text is split first (the last `val_fraction` of its bytes, from the
// start of a character), so the vocabulary is trained on the train part
// alone and val measures text it never saw; byte fallback encodes val's
// characters that train lacks.
Tokens sentencepiece_tokens(const std::string& text, const TextImport& o, const std::string& where) {
  (void)decode_utf8(text, where);  // SentencePiece would turn bad bytes into U+FFFD
  size_t split = text.size() - size_t(std::llround(double(text.size()) * o.val_fraction));
  while (split > 0 && split < text.size() && (uint8_t(text[split]) & 0xC0) == 0x80) --split;
  DLT_CHECK(split > 0 && (o.val_fraction == 0 || split < text.size()),
            "{}: {} bytes of text cannot be split into train and a validation fraction of {}",
            where, text.size(), o.val_fraction);
  const std::string_view train(text.data(), split), val(text.data() + split, text.size() - split);
  Tokens t;
  t.model = train_sentencepiece(train, {o.vocab_size, o.model_type}, where);
  const auto tokenizer = make_sentencepiece_tokenizer(t.model, where);
  t.vocab_size = tokenizer->vocab_size();
  const std::vector<int64_t> train_ids = tokenizer->encode(train), val_ids = tokenizer->encode(val);
  t.ids.assign(train_ids.begin(), train_ids.end());  // ids < vocab_size: int32 holds them
  t.ids.insert(t.ids.end(), val_ids.begin(), val_ids.end());
  t.n_train = train_ids.size();
  return t;
}

}  // namespace

void import_text(const std::string& input, const std::string& out, const TextImport& o) {
  const std::string where = input == "-" ? "stdin" : input;
  DLT_CHECK(o.val_fraction >= 0 && o.val_fraction < 1, "validation fraction must be in [0, 1), "
            "got {}", o.val_fraction);
  DLT_CHECK(o.vocab == Vocab::sentencepiece || o.vocab_size == 0,
            "a vocabulary size is chosen for the sentencepiece vocabulary only ({} was asked for)",
            vocab_name(o.vocab));
  const std::string text = read_all(input);
  DLT_CHECK(!text.empty(), "{}: no text", where);

  Tokens t;
  if (o.vocab == Vocab::sentencepiece) {
    t = sentencepiece_tokens(text, o, where);
  } else {
    t = o.vocab == Vocab::bytes ? byte_tokens(text) : char_tokens(text, where);
    split_tokens(t, o.val_fraction, where);
  }

  H5Writer w(out);
  write_tokens(w, "train", t.ids, 0, t.n_train, t.vocab_size, o.layout);
  if (t.n_train < t.ids.size()) write_tokens(w, "val", t.ids, t.n_train, t.ids.size(), t.vocab_size, o.layout);
  w.set_attribute("/", "vocab", std::string(vocab_name(o.vocab)));
  w.set_attribute("/", "vocab_size", t.vocab_size);
  if (o.vocab == Vocab::chars) w.set_attribute("/", "chars", t.chars);
  if (o.vocab == Vocab::sentencepiece) {
    w.write(kSentencePieceModelKey, DType::u8, {int64_t(t.model.size())}, t.model.data());
    w.set_attribute("/", "sentencepiece_model_type", o.model_type);
  }
  w.set_attribute("/", "source", where);
  w.commit();
}

}  // namespace dlt::data
