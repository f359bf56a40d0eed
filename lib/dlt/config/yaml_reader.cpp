#include "dlt/config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>

#include "dlt/core/error.h"

namespace dlt::config {
namespace {

// Deeper than any real config; a recursive alias (`a: &x [*x]`) would
// otherwise send every walk over the tree into an endless loop.
constexpr int kMaxDepth = 64;

std::string format_location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);  // yaml-cpp counts from 0
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

// Scalars written in quotes carry yaml-cpp's non-specific tag "!": they are
// strings even when they look like numbers.
bool is_quoted(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "!"; }

// What a value is, for "expected X, got Y".
std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (is_quoted(n)) return fmt::format("'{}' (a quoted string)", n.Scalar());
  return fmt::format("'{}'", n.Scalar());
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Levenshtein distance in which swapping two neighbours also counts as one
// edit (optimal string alignment): 'bset' is one slip away from 'best'.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::optional<int64_t> parse_int(std::string_view s, bool& out_of_range) {
  out_of_range = false;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) out_of_range = true;
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  // YAML spells infinity and not-a-number with a leading dot.
  const std::string lower = lowercase(s);
  if (lower == ".inf" || lower == "+.inf") return std::numeric_limits<double>::infinity();
  if (lower == "-.inf") return -std::numeric_limits<double>::infinity();
  if (lower == ".nan") return std::numeric_limits<double>::quiet_NaN();
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Rejects duplicate keys (yaml-cpp keeps both and reads the first) and
// recursive aliases, so later walks over the tree can trust it.
void check_tree(const YAML::Node& n, const std::string& file, const std::string& path, int depth) {
  DLT_CHECK(depth <= kMaxDepth, "{}: {}: nested deeper than {} levels (a recursive alias?)",
            format_location(file, n.Mark()), path, kMaxDepth);
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i)
      check_tree(n[i], file, fmt::format("{}[{}]", path, i), depth + 1);
  } else if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      const std::string where = format_location(file, kv.first.Mark());
      DLT_CHECK(kv.first.IsScalar(), "{}: {}{}keys must be plain names, got {}", where, path,
                path.empty() ? "" : ": ", describe(kv.first));
      DLT_CHECK(seen.insert(key).second, "{}: {}{}duplicate key '{}'", where, path,
                path.empty() ? "" : ": ", key);
      check_tree(kv.second, file, join_path(path, key), depth + 1);
    }
  }
}

}  // namespace

Node::Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)),
      mark_(node_.Mark()) {}

Node::Node(const Node& parent, const YAML::Node& value, std::string path, YAML::Mark mark)
    : node_(value), file_(parent.file_), path_(std::move(path)), mark_(mark),
      positioned_(parent.positioned_), sources_(parent.sources_) {}

Node& Node::operator=(const Node& other) {
  if (this == &other) return *this;
  node_.reset(other.node_);
  file_ = other.file_;
  path_ = other.path_;
  mark_ = other.mark_;
  positioned_ = other.positioned_;
  sources_ = other.sources_;
  return *this;
}

Node& Node::operator=(Node&& other) { return *this = static_cast<const Node&>(other); }

Node Node::child(const YAML::Node& value, const YAML::Mark& key_mark, std::string path) const {
  // An empty value (`out:`) has the position of whatever follows it, often
  // the next line; its key's position is the one a reader looks for.
  Node c(*this, value, std::move(path),
         value.IsNull() && !key_mark.is_null() ? key_mark : value.Mark());
  if (sources_) {
    for (const Source& s : *sources_) {
      if (value.is(s.subtree)) {
        c.file_ = s.name;
        c.positioned_ = false;
      }
    }
  }
  return c;
}

Node Node::with_source(const YAML::Node& subtree, const std::string& source) const {
  auto sources = sources_ ? std::make_shared<std::vector<Source>>(*sources_)
                          : std::make_shared<std::vector<Source>>();
  sources->push_back({subtree, std::make_shared<const std::string>(source)});
  Node out = *this;
  out.sources_ = std::move(sources);
  return out;
}

bool Node::is_map() const { return node_.IsMap(); }
bool Node::is_sequence() const { return node_.IsSequence(); }
bool Node::is_scalar() const { return node_.IsScalar(); }
bool Node::is_null() const { return !node_.IsDefined() || node_.IsNull(); }

size_t Node::size() const { return node_.IsMap() || node_.IsSequence() ? node_.size() : 0; }

bool Node::has(std::string_view key) const { return find(key).has_value(); }

std::optional<Node> Node::find(std::string_view key) const {
  if (!node_.IsMap()) return std::nullopt;
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key)
      return child(kv.second, kv.first.Mark(), join_path(path_, key));
  }
  return std::nullopt;
}

Node Node::at(std::string_view key) const {
  if (!is_map() && !is_null()) fail(fmt::format("expected a map with key '{}', got {}", key, describe(node_)));
  auto found = find(key);
  if (!found) fail(fmt::format("missing required key '{}'", key));
  return *found;
}

Node Node::at(size_t index) const {
  if (!is_sequence()) fail(fmt::format("expected a list, got {}", describe(node_)));
  if (index >= node_.size())
    fail(fmt::format("index {} out of range (the list has {} elements)", index, node_.size()));
  return child(node_[index], YAML::Mark::null_mark(), fmt::format("{}[{}]", path_, index));
}

std::vector<std::string> Node::keys() const {
  if (is_null()) return {};
  if (!is_map()) fail(fmt::format("expected a map, got {}", describe(node_)));
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

template <class T> T Node::as() const {
  const auto expect_scalar = [&](std::string_view what) -> const std::string& {
    if (!node_.IsScalar() || is_quoted(node_))
      fail(fmt::format("expected {}, got {}", what, describe(node_)));
    return node_.Scalar();
  };
  if constexpr (std::is_same_v<T, bool>) {
    bool value = false;
    const std::string& text = expect_scalar("true or false");
    if (!YAML::convert<bool>::decode(node_, value))
      fail(fmt::format("expected true or false, got '{}'", text));
    return value;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    const std::string& text = expect_scalar("an integer");
    bool out_of_range = false;
    const auto value = parse_int(text, out_of_range);
    if (!value)
      fail(fmt::format("expected an integer, got '{}'{}", text,
                       out_of_range ? " (out of the 64-bit range)" : ""));
    return *value;
  } else if constexpr (std::is_same_v<T, double>) {
    const std::string& text = expect_scalar("a number");
    const auto value = parse_double(text);
    if (!value) fail(fmt::format("expected a number, got '{}'", text));
    return *value;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!node_.IsScalar()) fail(fmt::format("expected a string, got {}", describe(node_)));
    return node_.Scalar();
  } else if constexpr (std::is_same_v<T, Shape>) {
    if (node_.IsScalar() && !is_quoted(node_)) return Shape{as<int64_t>()};
    if (!node_.IsSequence())
      fail(fmt::format("expected a shape (an integer or a list of integers), got {}",
                       describe(node_)));
    Shape shape;
    for (size_t i = 0; i < node_.size(); ++i) shape.push_back(at(i).as<int64_t>());
    return shape;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (node_.IsScalar()) return {node_.Scalar()};
    if (!node_.IsSequence())
      fail(fmt::format("expected a list of strings, got {}", describe(node_)));
    std::vector<std::string> out;
    for (size_t i = 0; i < node_.size(); ++i) out.push_back(at(i).as<std::string>());
    return out;
  } else {
    static_assert(sizeof(T) == 0, "config::Node::as<T>: unsupported type");
  }
}

template bool Node::as<bool>() const;
template int64_t Node::as<int64_t>() const;
template double Node::as<double>() const;
template std::string Node::as<std::string>() const;
template Shape Node::as<Shape>() const;
template std::vector<std::string> Node::as<std::vector<std::string>>() const;

void Node::check_keys(std::initializer_list<std::string_view> allowed) const {
  check_keys(std::vector<std::string>(allowed.begin(), allowed.end()));
}

void Node::check_keys(const std::vector<std::string>& allowed) const {
  if (is_null()) return;  // an empty section: nothing to check
  if (!is_map()) fail(fmt::format("expected a map, got {}", describe(node_)));
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string close = closest_match(key, allowed);
    const std::string hint = close.empty()
                                 ? fmt::format(" (expected one of: {})", fmt::join(allowed, ", "))
                                 : fmt::format("; did you mean '{}'?", close);
    // A key a --set override added is reported against that argument.
    const Node value = child(kv.second, kv.first.Mark(), join_path(path_, key));
    const std::string where =
        value.positioned_ ? format_location(*file_, kv.first.Mark()) : value.location();
    throw Error(fmt::format("{}: {}{}unknown key '{}'{}", where, path_, path_.empty() ? "" : ": ",
                            key, hint));
  }
}

void Node::fail(std::string_view message) const {
  throw Error(fmt::format("{}: {}{}{}", location(), path_, path_.empty() ? "" : ": ", message));
}

std::string Node::location() const {
  return positioned_ ? format_location(*file_, mark_) : *file_;
}

Node load_string(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.what() repeats the position in yaml-cpp's own words; e.msg is the bare message.
    throw Error(fmt::format("{}: invalid YAML: {}", format_location(name, e.mark), e.msg));
  }
  check_tree(root, name, "", 0);
  return Node(root, std::make_shared<const std::string>(name), "");
}

Node load_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  DLT_CHECK(f != nullptr, "cannot open '{}': {}", path, std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  DLT_CHECK(!failed, "cannot read '{}': {}", path, std::strerror(err));
  return load_string(text, path);
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string w = lowercase(word);
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(w, lowercase(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Close means a slip of the fingers: about one edit per three letters, and
  // never a rewrite of the whole candidate ('x' is not a typo of 'lr').
  const size_t allowed = std::max<size_t>(1, w.size() / 3);
  if (best.empty() || best_distance > allowed || best_distance >= best.size()) return {};
  return best;
}

}  // namespace dlt::config
