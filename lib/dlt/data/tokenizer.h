// Tokenizers: text <-> the token ids of a token file written by `dlt data
// import text`, one interface over the vocabularies it stores (bytes, chars,
// sentencepiece). `dlt data encode/decode` and text generation use it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlt::data {

// Turns text into token ids and back, for the vocabulary a token file was written with.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  // Ids outside [0, vocab_size) are an error naming the id.
  virtual std::string decode(std::span<const int64_t> ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::string describe() const = 0;  // e.g. "chars (65)", "sentencepiece bpe (4096)"

 protected:
  // The error for the first id outside [0, vocab_size), if any.
  void check_ids(std::span<const int64_t> ids) const;
};

// The tokenizer of a token file written by import_text (its vocab attributes,
// and for sentencepiece the model stored inside the file); a clear error
// naming the file when it has none.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& h5_path);

// Ids [start, start + count) of the 1-D token stream `key` ("val/tokens")
// of a token file; count -1: to its end. Errors name the file, key and range.
std::vector<int64_t> read_token_ids(const std::string& h5_path, const std::string& key,
                                    int64_t start = 0, int64_t count = -1);

// The tokenizers themselves, for importers and tests. `where` names the
// source (a file) in their error messages.
//
// Token = byte value, 256 ids; decoding gives the bytes back, valid UTF-8 or not.
std::unique_ptr<Tokenizer> make_bytes_tokenizer();
// Token = index of the character in `chars`, the vocabulary in id order
// (UTF-8, each character once). Encoding a character it lacks is an error
// naming the character (U+XXXX) and its byte offset.
std::unique_ptr<Tokenizer> make_chars_tokenizer(std::string_view chars, const std::string& where);
// A trained SentencePiece model: `model` holds the bytes of its .model file
// (a serialized ModelProto). Text must be valid UTF-8.
std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(std::string_view model,
                                                        const std::string& where);

// Where a token file keeps its SentencePiece model: a uint8 dataset holding
// the bytes of the .model file.
inline constexpr const char* kSentencePieceModelKey = "tokenizer/model";

}  // namespace dlt::data
