#include "dlt/data/import/sentencepiece_trainer.h"

#include <limits>
#include <unordered_map>

#include "dlt/core/error.h"
#include "dlt/data/sentencepiece_shim.h"

namespace dlt::data {

namespace {

// Fixed, not the machine's core count: the count is stored in the model,
// and the unigram trainer's sums depend on it, so the same text gives the
// same model bytes everywhere.
constexpr int kTrainThreads = 2;
// Lines sampled for training when a text has more; SentencePiece's advice
// for large corpora, which bounds the trainer's memory.
constexpr int kMaxTrainingSentences = 1'000'000;
// Seeds SentencePiece's generator (the sample of lines above).
constexpr unsigned kSeed = 1;

// SentencePiece's message without the source location and failed condition
// it starts with: "Internal: ./src/x.cc(580) [a <= b] Vocabulary size ...".
std::string reason(const std::string& full) {
  const size_t bracket = full.find(") [");
  const size_t end = bracket == std::string::npos ? bracket : full.find("] ", bracket);
  return end == std::string::npos ? full : full.substr(end + 2);
}

}  // namespace

std::vector<std::string_view> training_sentences(std::string_view text, size_t max_bytes) {
  DLT_ASSERT(max_bytes >= 4);  // room for any one character
  std::vector<std::string_view> out;
  for (size_t start = 0; start < text.size();) {
    const size_t newline = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    while (line.size() > max_bytes) {
      size_t cut = line.rfind(' ', max_bytes);
      if (cut == std::string_view::npos || cut == 0) {
        cut = max_bytes;  // no space: back off to the start of a character
        while (cut > 0 && (uint8_t(line[cut]) & 0xC0) == 0x80) --cut;
      }
      out.push_back(line.substr(0, cut));
      line.remove_prefix(cut);
    }
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string train_sentencepiece(std::string_view text, const SentencePieceTraining& o,
                                const std::string& where) {
  DLT_CHECK(o.model_type == "bpe" || o.model_type == "unigram",
            "unknown SentencePiece model type '{}' (expected bpe or unigram)", o.model_type);
  DLT_CHECK(o.vocab_size > 257 && o.vocab_size <= std::numeric_limits<int32_t>::max(),
            "a SentencePiece vocabulary of {} ids is impossible: it needs more than 257 (the "
            "unknown token and 256 byte tokens come first)",
            o.vocab_size);
  const std::vector<std::string_view> sentences = training_sentences(text);
  const std::unordered_map<std::string, std::string> options{
      {"model_type", o.model_type},
      {"vocab_size", std::to_string(o.vocab_size)},
      // Exact round trips: no normalisation at all, whitespace as it is.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      // Characters without a piece become their UTF-8 bytes, never <unk>.
      {"byte_fallback", "true"},
      {"character_coverage", "0.9995"},
      // A token stream has no sentences: no begin/end markers.
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"max_sentence_length", std::to_string(kMaxSentenceBytes)},
      {"input_sentence_size", std::to_string(kMaxTrainingSentences)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(kTrainThreads)},
      {"minloglevel", "2"},  // errors only: they come back as the status too
  };
  std::string model, error;
  DLT_CHECK(sentencepiece_shim().train(options, sentences, kSeed, &model, &error),
            "{}: SentencePiece cannot train a {} vocabulary of {}: {}", where, o.model_type,
            o.vocab_size, reason(error));
  return model;
}

}  // namespace dlt::data
