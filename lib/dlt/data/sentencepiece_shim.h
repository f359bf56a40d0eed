// The table of functions libdlt_sentencepiece.so exports, and the loader that
// opens it. Debian's libsentencepiece embeds its own copy of protobuf-lite
// and exports those symbols; in one process with the system libprotobuf
// (which dlt's ONNX code links) each would bind the other's functions and
// crash. So SentencePiece lives in a small library of its own that dlt opens
// on first use with RTLD_LOCAL | RTLD_DEEPBIND: its symbols stay private and
// it binds its own protobuf first.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dlt::data {

struct SentencePieceShim {
  // A processor of a serialized model, or null with *error set.
  void* (*load)(std::string_view model, std::string* error);
  void (*release)(void* processor);
  bool (*encode)(const void* processor, std::string_view text, std::vector<int>* ids,
                 std::string* error);
  bool (*decode)(const void* processor, const std::vector<int>& ids, std::string* text,
                 std::string* error);
  int (*piece_size)(const void* processor);
  // Trains a model on the sentences with SentencePiece's trainer options,
  // its generator seeded with `seed`: false with *error on failure.
  bool (*train)(const std::unordered_map<std::string, std::string>& options,
                const std::vector<std::string_view>& sentences, unsigned seed, std::string* model,
                std::string* error);
};

// Why this build cannot use SentencePiece (sanitizer builds: see
// sentencepiece_shim.cpp), or empty when it can.
std::string sentencepiece_unavailable();

// The shim, opened once: next to the binary or library that runs this code,
// in the build folder, or in the installed library folder. An error names
// the places it looked.
const SentencePieceShim& sentencepiece_shim();

}  // namespace dlt::data

// The symbol the shim exports.
extern "C" const dlt::data::SentencePieceShim* dlt_sentencepiece_shim();
