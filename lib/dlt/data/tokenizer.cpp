// The bytes and chars tokenizers, and which tokenizer a token file has.
#include "dlt/data/tokenizer.h"

#include <algorithm>

#include "dlt/core/error.h"
#include "dlt/data/h5.h"
#include "dlt/data/utf8.h"

namespace dlt::data {

void Tokenizer::check_ids(std::span<const int64_t> ids) const {
  const int64_t n = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i)
    DLT_CHECK(ids[i] >= 0 && ids[i] < n, "token id {} (at position {}) is outside [0, {}) of the {} vocabulary",
              ids[i], i, n, describe());
}

namespace {

class BytesTokenizer final : public Tokenizer {
 public:
  std::vector<int64_t> encode(std::string_view text) const override {
    std::vector<int64_t> ids(text.size());
    std::transform(text.begin(), text.end(), ids.begin(), [](char c) { return uint8_t(c); });
    return ids;
  }
  std::string decode(std::span<const int64_t> ids) const override {
    check_ids(ids);
    std::string text(ids.size(), '\0');
    std::transform(ids.begin(), ids.end(), text.begin(), [](int64_t id) { return char(uint8_t(id)); });
    return text;
  }
  int64_t vocab_size() const override { return 256; }
  std::string describe() const override { return "bytes (256)"; }
};

// "U+00E9 'é'", with control characters escaped so messages stay on one line.
std::string show_char(char32_t c) {
  std::string glyph;
  if (c == '\n') glyph = "\\n";
  else if (c == '\t') glyph = "\\t";
  else if (c == '\r') glyph = "\\r";
  else if (c < 0x20 || c == 0x7F) glyph = fmt::format("\\x{:02x}", uint32_t(c));
  else append_utf8(glyph, c);
  return fmt::format("U+{:04X} '{}'", uint32_t(c), glyph);
}

class CharsTokenizer final : public Tokenizer {
 public:
  CharsTokenizer(std::string_view chars, const std::string& where) : where_(where) {
    chars_ = decode_utf8(chars, fmt::format("{}: the character vocabulary", where));
    DLT_CHECK(!chars_.empty(), "{}: the character vocabulary is empty", where);
    for (size_t id = 0; id < chars_.size(); ++id) ids_.push_back({chars_[id], int64_t(id)});
    std::sort(ids_.begin(), ids_.end());
    const auto twice = std::adjacent_find(ids_.begin(), ids_.end(),
                                          [](const auto& a, const auto& b) { return a.first == b.first; });
    DLT_CHECK(twice == ids_.end(), "{}: the character vocabulary holds {} twice", where,
              show_char(twice->first));
  }

  std::vector<int64_t> encode(std::string_view text) const override {
    const std::vector<char32_t> points = decode_utf8(text, "text to encode");
    std::vector<int64_t> ids;
    ids.reserve(points.size());
    size_t offset = 0;  // of the character, in bytes, for the error
    for (const char32_t c : points) {
      const auto it = std::lower_bound(ids_.begin(), ids_.end(), std::pair{c, int64_t(0)});
      DLT_CHECK(it != ids_.end() && it->first == c,
                "character {} at byte {} is not in the character vocabulary of {} ({} characters)",
                show_char(c), offset, where_, chars_.size());
      ids.push_back(it->second);
      offset += size_t(utf8_length(uint8_t(text[offset])));
    }
    return ids;
  }

  std::string decode(std::span<const int64_t> ids) const override {
    check_ids(ids);
    std::string text;
    text.reserve(ids.size());
    for (const int64_t id : ids) append_utf8(text, chars_[size_t(id)]);
    return text;
  }

  int64_t vocab_size() const override { return int64_t(chars_.size()); }
  std::string describe() const override { return fmt::format("chars ({})", chars_.size()); }

 private:
  std::string where_;
  std::vector<char32_t> chars_;                    // id -> character
  std::vector<std::pair<char32_t, int64_t>> ids_;  // (character, id), by character
};

// The SentencePiece model stored in a token file, as bytes.
std::string read_sentencepiece_model(const h5::File& file) {
  DLT_CHECK(h5::has_dataset(file, kSentencePieceModelKey),
            "{}: @vocab is \"sentencepiece\" but the file has no '{}' dataset (the model)", file.path,
            kSentencePieceModelKey);
  const h5::Id ds = h5::open_dataset(file, kSentencePieceModelKey);
  const h5::DatasetInfo info = h5::describe(file, ds.get(), kSentencePieceModelKey);
  DLT_CHECK(info.supported && info.dtype == DType::u8 && info.shape.size() == 1,
            "{}: '{}' must be a 1-D uint8 dataset (the bytes of a .model file), not {} {}",
            file.path, kSentencePieceModelKey, info.type_name, shape_str(info.shape));
  std::string model(size_t(info.shape[0]), '\0');
  h5::read_rows(file, ds.get(), kSentencePieceModelKey, info.shape, DType::u8, 0, info.shape[0],
                model.data());
  return model;
}

}  // namespace

std::unique_ptr<Tokenizer> make_bytes_tokenizer() { return std::make_unique<BytesTokenizer>(); }

std::unique_ptr<Tokenizer> make_chars_tokenizer(std::string_view chars, const std::string& where) {
  return std::make_unique<CharsTokenizer>(chars, where);
}

std::vector<int64_t> read_token_ids(const std::string& h5_path, const std::string& key,
                                    int64_t start, int64_t count) {
  const h5::FilePtr file = h5::open_file(h5_path);
  const h5::Id ds = h5::open_dataset(*file, key);
  const h5::DatasetInfo info = h5::describe(*file, ds.get(), key);
  DLT_CHECK(info.shape.size() == 1 && info.supported && is_integral(info.dtype),
            "{}: '{}' holds {} {}, not a 1-D stream of integer token ids", h5_path, key,
            info.type_name, shape_str(info.shape));
  const int64_t n = info.shape[0];
  if (count < 0) count = std::max<int64_t>(0, n - start);
  DLT_CHECK(start >= 0 && start + count <= n, "{}: tokens {}..{} are outside '{}', which has {}",
            h5_path, start, start + count, key, n);
  std::vector<int64_t> ids(static_cast<size_t>(count));
  h5::read_rows(*file, ds.get(), key, info.shape, DType::i64, start, count, ids.data());
  return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& h5_path) {
  const h5::FilePtr file = h5::open_file(h5_path);
  const auto vocab = h5::read_string_attribute(*file, "/", "vocab");
  DLT_CHECK(vocab.has_value(),
            "{}: no tokenizer: the file has no @vocab attribute (token files written by "
            "`dlt data import text` have one)",
            h5_path);
  std::unique_ptr<Tokenizer> tokenizer;
  if (*vocab == "bytes") {
    tokenizer = make_bytes_tokenizer();
  } else if (*vocab == "chars") {
    const auto chars = h5::read_string_attribute(*file, "/", "chars");
    DLT_CHECK(chars.has_value(), "{}: @vocab is \"chars\" but the file has no @chars attribute",
              h5_path);
    tokenizer = make_chars_tokenizer(*chars, h5_path);
  } else if (*vocab == "sentencepiece") {
    tokenizer = make_sentencepiece_tokenizer(read_sentencepiece_model(*file), h5_path);
  } else {
    throw Error(fmt::format("{}: unknown @vocab \"{}\" (known: bytes, chars, sentencepiece)", h5_path,
                            *vocab));
  }
  const auto size = h5::read_int_attribute(*file, "/", "vocab_size");
  DLT_CHECK(!size || *size == tokenizer->vocab_size(),
            "{}: @vocab_size is {}, but its {} vocabulary has {} tokens", h5_path, *size, *vocab,
            tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace dlt::data
