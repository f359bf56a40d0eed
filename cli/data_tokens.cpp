// dlt data decode / encode: token ids <-> text through a token file's
// tokenizer (lib/dlt/data/tokenizer.h).
#include <fmt/core.h>

#include <charconv>
#include <cstdio>

#include "cli/commands.h"
#include "dlt/core/error.h"
#include "dlt/data/tokenizer.h"

namespace dlt::cli {
namespace {

using namespace dlt::data;

// "1 2 3" or "1,2,3" -> ids; anything else is an error naming the word.
std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  size_t pos = 0;
  while ((pos = text.find_first_not_of(" \t\n,", pos)) != std::string::npos) {
    const size_t end = std::min(text.find_first_of(" \t\n,", pos), text.size());
    int64_t id = 0;
    const auto [stop, ec] = std::from_chars(text.data() + pos, text.data() + end, id);
    DLT_CHECK(ec == std::errc() && stop == text.data() + end, "--ids: '{}' is not a token id",
              text.substr(pos, end - pos));
    ids.push_back(id);
    pos = end;
  }
  return ids;
}

void add_decode(CLI::App& data) {
  struct Args {
    std::string file, split = "val", ids;
    int64_t start = 0, count = -1;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "decode", "Print the text of token ids, through the token file's tokenizer: a range of a\n"
                "stored split, or the ids given. The text is printed exactly, with no newline added.\n"
                "Example: dlt data decode data/kjv.h5 --split val --start 1000 --count 200");
  cmd->add_option("file", a->file, "Token file (from dlt data import text)")->required();
  auto* split = cmd->add_option("--split", a->split, "Stored tokens to decode: train or val")
                    ->check(CLI::IsMember({"train", "val"}))
                    ->capture_default_str();
  auto* start = cmd->add_option("--start", a->start, "First token of the range")
                    ->check(CLI::NonNegativeNumber)
                    ->capture_default_str();
  auto* count = cmd->add_option("--count", a->count, "Tokens in the range (default: to the end)")
                    ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ids", a->ids, "Decode these ids instead, e.g. \"72 101 108\"")
      ->excludes(split)
      ->excludes(start)
      ->excludes(count);
  cmd->callback([a] {
    const auto tokenizer = load_tokenizer(a->file);
    const std::vector<int64_t> ids = a->ids.empty()
                                         ? read_token_ids(a->file, a->split + "/tokens", a->start, a->count)
                                         : parse_ids(a->ids);
    const std::string text = tokenizer->decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

void add_encode(CLI::App& data) {
  struct Args {
    std::string file, text;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "encode", "Print the token ids of a text, through the token file's tokenizer.\n"
                "Example: dlt data encode data/kjv.h5 --text 'In the beginning'");
  cmd->add_option("file", a->file, "Token file (from dlt data import text)")->required();
  cmd->add_option("--text", a->text, "The text to encode")->required();
  cmd->callback([a] {
    const std::vector<int64_t> ids = load_tokenizer(a->file)->encode(a->text);
    fmt::print("{}\n", fmt::join(ids, " "));
  });
}

}  // namespace

void add_token_commands(CLI::App& data) {
  add_decode(data);
  add_encode(data);
}

}  // namespace dlt::cli
