// The SentencePiece tokenizer: a model trained by `dlt data import text
// --vocab sentencepiece`, loaded from the bytes stored in the token file.

#include <optional>

#include "dlt/core/error.h"
#include "dlt/data/sentencepiece_shim.h"
#include "dlt/data/tokenizer.h"
#include "dlt/data/utf8.h"

namespace dlt::data {

namespace {

// Reads one protobuf varint at `pos`; nullopt when the bytes end first.
std::optional<uint64_t> read_varint(std::string_view bytes, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; pos < bytes.size() && shift < 64; shift += 7) {
    const auto b = uint8_t(bytes[pos++]);
    value |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) return value;
  }
  return std::nullopt;
}

// Calls f(field number, varint value, bytes) for each field of a protobuf
// message (value for varints, bytes for the others); false when malformed.
// Just enough wire format to read the model type: the Debian package ships
// no generated headers for SentencePiece's protos.
template <class F> bool for_each_field(std::string_view msg, F f) {
  for (size_t pos = 0; pos < msg.size();) {
    const auto key = read_varint(msg, pos);
    if (!key) return false;
    const uint64_t field = *key >> 3, wire = *key & 7;
    if (wire == 0) {
      const auto value = read_varint(msg, pos);
      if (!value) return false;
      f(field, *value, std::string_view());
      continue;
    }
    const std::optional<uint64_t> len = wire == 1   ? 8
                                        : wire == 5 ? 4
                                        : wire == 2 ? read_varint(msg, pos)
                                                    : std::nullopt;
    if (!len || *len > msg.size() - pos) return false;
    f(field, 0, msg.substr(pos, *len));
    pos += *len;
  }
  return true;
}

// "bpe", "unigram", "word" or "char": TrainerSpec.ModelType of the model.
std::string model_type_name(std::string_view model) {
  std::string_view spec;  // ModelProto.trainer_spec = 2
  for_each_field(model, [&](uint64_t field, uint64_t, std::string_view bytes) {
    if (field == 2) spec = bytes;
  });
  uint64_t type = 1;  // TrainerSpec.model_type = 3; the proto's default: UNIGRAM
  for_each_field(spec, [&](uint64_t field, uint64_t value, std::string_view) {
    if (field == 3) type = value;
  });
  switch (type) {
    case 1: return "unigram";
    case 2: return "bpe";
    case 3: return "word";
    case 4: return "char";
    default: return fmt::format("model type {}", type);
  }
}

// Where encode() may cut the text and encode the parts alone with the same
// result: after a newline and before a space. The import trains on lines, so
// no piece holds a newline, and with split_by_whitespace no piece has a space
// (U+2581) but at its start. Encoding line by line is 3x faster than
// encoding a whole 4 MB text at once.
constexpr size_t kCutAfterBytes = 4096;  // below this a line is not cut at spaces

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::string_view model, const std::string& where)
      : shim_(sentencepiece_shim()), where_(where) {
    std::string error;
    sp_ = shim_.load(model, &error);
    DLT_CHECK(sp_, "{}: the SentencePiece model ({} bytes) does not load: {}", where, model.size(),
              error);
    type_ = model_type_name(model);
  }
  ~SentencePieceTokenizer() override { shim_.release(sp_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int64_t> encode(std::string_view text) const override {
    // SentencePiece would replace malformed UTF-8 with U+FFFD; refuse it instead.
    (void)decode_utf8(text, "text to encode");
    std::vector<int64_t> ids;
    std::vector<int> part;
    for (size_t start = 0; start < text.size();) {
      size_t end = start;
      while (end < text.size() && text[end] != '\n' && !(text[end] == ' ' && end - start >= kCutAfterBytes))
        ++end;
      if (end < text.size() && text[end] == '\n') ++end;
      std::string error;
      DLT_CHECK(shim_.encode(sp_, text.substr(start, end - start), &part, &error),
                "{}: SentencePiece cannot encode the text at byte {}: {}", where_, start, error);
      ids.insert(ids.end(), part.begin(), part.end());
      start = end;
    }
    return ids;
  }

  std::string decode(std::span<const int64_t> ids) const override {
    check_ids(ids);
    const std::vector<int> narrow(ids.begin(), ids.end());
    std::string text;
    std::string error;
    DLT_CHECK(shim_.decode(sp_, narrow, &text, &error), "{}: SentencePiece cannot decode: {}", where_,
              error);
    return text;
  }

  int64_t vocab_size() const override { return shim_.piece_size(sp_); }
  std::string describe() const override {
    return fmt::format("sentencepiece {} ({})", type_, vocab_size());
  }

 private:
  const SentencePieceShim& shim_;
  void* sp_ = nullptr;  // the shim's processor
  std::string where_, type_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(std::string_view model,
                                                        const std::string& where) {
  return std::make_unique<SentencePieceTokenizer>(model, where);
}

}  // namespace dlt::data
