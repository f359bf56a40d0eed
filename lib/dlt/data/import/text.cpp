// dlt data import text
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "dlt/data/import/importers.h"
#include "dlt/data/utf8.h"

namespace dlt::data {

Vocab parse_vocab(std::string_view name) {
  if (name == "bytes") return Vocab::bytes;
  if (name == "chars") return Vocab::chars;
  throw Error(fmt::format("unknown vocabulary '{}' (expected bytes or chars)", name));
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

}  // namespace

void import_text(const std::string& input, const std::string& out, const TextImport& o) {
  const std::string where = input == "-" ? "stdin" : input;
  DLT_CHECK(o.val_fraction >= 0 && o.val_fraction < 1, "validation fraction must be in [0, 1), "
            "got {}", o.val_fraction);
  const std::string text = read_all(input);
  DLT_CHECK(!text.empty(), "{}: no text", where);

  std::vector<int32_t> ids;
  int64_t vocab_size = 256;
  std::string chars;  // the vocabulary, in id order (chars only)
  if (o.vocab == Vocab::bytes) {
    ids.assign(text.begin(), text.end());
    for (int32_t& id : ids) id = int32_t(uint8_t(id));
  } else {
    const std::vector<char32_t> points = decode_utf8(text, where);
    std::vector<char32_t> vocab(points);
    std::sort(vocab.begin(), vocab.end());
    vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
    // The vocabulary is stored as one C string, which cannot hold a NUL.
    DLT_CHECK(vocab.front() != 0, "{}: the text contains NUL characters; use the bytes vocabulary",
              where);
    for (const char32_t c : vocab) append_utf8(chars, c);
    ids.reserve(points.size());
    for (const char32_t c : points)
      ids.push_back(int32_t(std::lower_bound(vocab.begin(), vocab.end(), c) - vocab.begin()));
    vocab_size = int64_t(vocab.size());
  }

  const size_t n_val = size_t(std::llround(double(ids.size()) * o.val_fraction));
  const size_t n_train = ids.size() - n_val;
  DLT_CHECK(n_train > 0 && (o.val_fraction == 0 || n_val > 0),
            "{}: {} tokens cannot be split into train and a validation fraction of {}", where,
            ids.size(), o.val_fraction);

  H5Writer w(out);
  write_tokens(w, "train", ids, 0, n_train, vocab_size, o.layout);
  if (n_val > 0) write_tokens(w, "val", ids, n_train, ids.size(), vocab_size, o.layout);
  w.set_attribute("/", "vocab", std::string(o.vocab == Vocab::bytes ? "bytes" : "chars"));
  w.set_attribute("/", "vocab_size", vocab_size);
  if (o.vocab == Vocab::chars) w.set_attribute("/", "chars", chars);
  w.set_attribute("/", "source", where);
  w.commit();
}

}  // namespace dlt::data
