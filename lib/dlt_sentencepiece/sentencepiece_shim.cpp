// libdlt_sentencepiece.so: SentencePiece's processor and trainer behind the
// table of lib/dlt/data/sentencepiece_shim.h (see there why it is a library
// of its own). Plain calls, no dlt code.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "dlt/data/sentencepiece_shim.h"

namespace {

// Feeds the training sentences to the trainer without copying the text.
class Sentences final : public sentencepiece::SentenceIterator {
 public:
  explicit Sentences(const std::vector<std::string_view>& sentences) : sentences_(sentences) { load(); }
  bool done() const override { return next_ > sentences_.size(); }
  void Next() override { load(); }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (next_ < sentences_.size()) value_.assign(sentences_[next_]);
    ++next_;
  }
  const std::vector<std::string_view>& sentences_;
  size_t next_ = 0;
  std::string value_;
};

bool ok(const sentencepiece::util::Status& status, std::string* error) {
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

const auto* processor(const void* p) { return static_cast<const sentencepiece::SentencePieceProcessor*>(p); }

void* load(std::string_view model, std::string* error) {
  auto* sp = new sentencepiece::SentencePieceProcessor;
  if (ok(sp->LoadFromSerializedProto(model), error)) return sp;
  delete sp;
  return nullptr;
}

void release(void* p) { delete static_cast<sentencepiece::SentencePieceProcessor*>(p); }

bool encode(const void* p, std::string_view text, std::vector<int>* ids, std::string* error) {
  return ok(processor(p)->Encode(text, ids), error);
}

bool decode(const void* p, const std::vector<int>& ids, std::string* text, std::string* error) {
  return ok(processor(p)->Decode(ids, text), error);
}

int piece_size(const void* p) { return processor(p)->GetPieceSize(); }

bool train(const std::unordered_map<std::string, std::string>& options,
           const std::vector<std::string_view>& sentences, unsigned seed, std::string* model,
           std::string* error) {
  sentencepiece::SetRandomGeneratorSeed(seed);
  Sentences iterator(sentences);
  return ok(sentencepiece::SentencePieceTrainer::Train(options, &iterator, model), error);
}

constexpr dlt::data::SentencePieceShim kShim{load, release, encode, decode, piece_size, train};

}  // namespace

extern "C" __attribute__((visibility("default"))) const dlt::data::SentencePieceShim* dlt_sentencepiece_shim() {
  return &kShim;
}
