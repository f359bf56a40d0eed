// Training a SentencePiece vocabulary for `dlt data import text --vocab
// sentencepiece`, with Debian's libsentencepiece, in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dlt::data {

struct SentencePieceTraining {
  int64_t vocab_size = 0;          // ids in all: unknown + 256 bytes + pieces
  std::string model_type = "bpe";  // or "unigram"
};

// SentencePiece refuses (skips) longer training sentences.
inline constexpr size_t kMaxSentenceBytes = 4096;

// The training sentences of `text`: its lines, empty ones left out, and
// lines longer than `max_bytes` cut before the last space that keeps the
// part within `max_bytes` (or, without one, at the last character boundary).
std::vector<std::string_view> training_sentences(std::string_view text,
                                                 size_t max_bytes = kMaxSentenceBytes);

// Trains a model on `text` (valid UTF-8) and returns the bytes of its
// .model file. Same text and options, same bytes. The model round-trips
// any UTF-8 text exactly: no normalisation (identity rule, spaces kept as
// they are, no dummy prefix space), and characters it lacks (newlines,
// rare or unseen characters) fall back to byte tokens. Its one catch:
// SentencePiece writes spaces as U+2581, so a U+2581 in the text decodes
// as a space. Errors name `where`.
std::string train_sentencepiece(std::string_view text, const SentencePieceTraining& options,
                                const std::string& where);

}  // namespace dlt::data
