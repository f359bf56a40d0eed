// Importers: turn public data sets and plain files into HDF5 files that the
// datasets in lib/dlt/data read. Each writes "<out>.partial" and renames it
// when done, so a failed import leaves nothing behind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dlt/data/h5_writer.h"

namespace dlt::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The gzipped IDX files of Fashion-MNIST (Debian's dataset-fashion-mnist)
// -> train/images (60000, 28, 28) uint8, train/labels (60000) int64,
// test/images, test/labels; attributes class_names and source.
void import_fashion_mnist(const std::string& src_dir, const std::string& out,
                          const Layout& layout = {});

enum class Vocab {
  bytes,          // token = byte value, vocabulary of 256
  chars,          // token = index of the (UTF-8) character in the sorted set of those used
  sentencepiece,  // subwords: a SentencePiece model (bpe or unigram) trained on the text
};
Vocab parse_vocab(std::string_view name);
const char* vocab_name(Vocab vocab);

struct TextImport {
  double val_fraction = 0.1;  // the last part of the text becomes val/tokens
  Vocab vocab = Vocab::bytes;
  int64_t vocab_size = 0;          // sentencepiece: ids in all (required); else 0
  std::string model_type = "bpe";  // sentencepiece: bpe or unigram
  Layout layout;
};

// Text (a file, or "-" for stdin) -> train/tokens and val/tokens (uint8 while
// the vocabulary fits, else int32); attributes vocab, vocab_size, source and,
// for chars, the vocabulary itself as one string ("chars"). For
// sentencepiece, the model trained on the train part is stored as the uint8
// dataset tokenizer/model (the bytes of its .model file) with the attribute
// sentencepiece_model_type; val is the text's last val_fraction of bytes.
// load_tokenizer (tokenizer.h) reads any of them back.
void import_text(const std::string& input, const std::string& out, const TextImport& options);

// A numeric CSV table with a header row -> features (N, F) float32 from every
// column but `label`, and labels (N): int64 when every label is a whole
// number, else float32. Attributes feature_names, label and source.
void import_csv(const std::string& path, const std::string& out, const std::string& label,
                const Layout& layout = {});

// What an image import does with a file it cannot use.
enum class OnError {
  fail,  // stop with an error naming the file; nothing is written
  skip,  // leave the file out, list it in the report, go on
};
OnError parse_on_error(std::string_view name);

struct ImageImport {
  int64_t height = 0, width = 0;  // resize every image to this; 0: keep sizes (all must match)
  int channels = 3;               // 1: gray, 3: RGB
  double val_fraction = 0.1;      // of each class, drawn with the seed
  uint64_t seed = 0;
  OnError on_error = OnError::fail;
  Layout layout;
};

// "HxW" (e.g. "64x64") -> height and width of `options`.
void parse_image_size(std::string_view text, ImageImport& options);

struct SkippedImage {
  std::string path, reason;
};

struct ImageImportReport {
  int64_t classes = 0, train = 0, val = 0;
  std::vector<SkippedImage> skipped;  // files (and empty class folders) left out
};

// An image folder (one subfolder per class, sorted names give the labels;
// .png, .jpg and .jpeg files anywhere under each, other files and hidden
// files and folders ignored) -> train/images
// (N, C, H, W) uint8 and train/labels (N) int64, and val/images, val/labels
// when val_fraction > 0. Each split's rows are stored in an order shuffled
// by the seed. Attributes class_names, source and how the import was made.
ImageImportReport import_images(const std::string& dir, const std::string& out,
                                const ImageImport& options);

}  // namespace dlt::data
