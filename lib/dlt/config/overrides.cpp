// --set key.path=value: replaces (or adds) one value of the document before
// it is validated. The new value remembers the argument, so a wrong type or
// an unknown key in it is reported against `--set ...`, not the file.
#include <cctype>

#include "dlt/config/experiment.h"
#include "dlt/core/error.h"

namespace dlt::config {
namespace {

// One segment of a path: `layers[1][0]` is key "layers", indices {1, 0}.
struct Segment {
  std::string key;
  std::vector<size_t> indices;
};

bool is_key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// "model.layers[1].out" -> segments; nothing if it is not such a path.
std::optional<std::vector<Segment>> parse_path(std::string_view path) {
  std::vector<Segment> out;
  size_t i = 0;
  while (true) {
    Segment seg;
    while (i < path.size() && is_key_char(path[i])) seg.key += path[i++];
    if (seg.key.empty()) return std::nullopt;
    while (i < path.size() && path[i] == '[') {
      size_t index = 0, digits = 0;
      for (++i; i < path.size() && std::isdigit(static_cast<unsigned char>(path[i])); ++i, ++digits)
        index = index * 10 + size_t(path[i] - '0');
      if (digits == 0 || digits > 9 || i >= path.size() || path[i] != ']') return std::nullopt;
      ++i;
      seg.indices.push_back(index);
    }
    out.push_back(std::move(seg));
    if (i == path.size()) return out;
    if (path[i] != '.') return std::nullopt;
    ++i;
  }
}

std::string what_is(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (n.IsNull()) return "empty";
  return fmt::format("'{}'", n.Scalar());
}

// The value of `key` in map `m`, without creating it.
std::optional<YAML::Node> lookup(const YAML::Node& m, const std::string& key) {
  if (!m.IsMap()) return std::nullopt;
  for (const auto& kv : m)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  return std::nullopt;
}

Node apply_one(const Node& root, const std::string& arg) {
  const std::string source = "--set " + arg;
  const size_t eq = arg.find('=');
  const auto path = eq == std::string::npos ? std::nullopt : parse_path(std::string_view(arg).substr(0, eq));
  DLT_CHECK(path.has_value(), "{}: expected key.path=value (e.g. optim.lr=0.02 or model.layers[1].out=256)",
            source);

  YAML::Node value;
  try {
    value = YAML::Load(arg.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: invalid YAML value: {}", source, e.msg));
  }

  // YAML::Node assignment writes into the node it refers to, so walking uses
  // reset() to move the cursor and `=` only to put the value in place.
  YAML::Node cursor = root.yaml();
  std::string walked;  // the path so far, for messages
  for (size_t s = 0; s < path->size(); ++s) {
    const Segment& seg = (*path)[s];
    DLT_CHECK(cursor.IsMap() || cursor.IsNull(), "{}: {} is {}, not a map with key '{}'", source,
              walked.empty() ? "the document" : walked, what_is(cursor), seg.key);
    walked += (walked.empty() ? "" : ".") + seg.key;
    const bool last = s + 1 == path->size();
    const auto found = lookup(cursor, seg.key);
    if (!found) {
      // A new key: the rest of the path becomes nested maps around the value.
      for (size_t r = s; r < path->size(); ++r)
        DLT_CHECK((*path)[r].indices.empty(), "{}: {} does not exist, so it has no element [{}]",
                  source, walked, (*path)[r].indices.empty() ? 0 : (*path)[r].indices[0]);
      YAML::Node subtree = value;
      for (size_t r = path->size() - 1; r > s; --r) {
        YAML::Node wrap(YAML::NodeType::Map);
        wrap[(*path)[r].key] = subtree;
        subtree.reset(wrap);
      }
      cursor[seg.key] = subtree;
      return root.with_source(subtree, source);
    }
    YAML::Node next = *found;
    for (size_t index : seg.indices) {
      DLT_CHECK(next.IsSequence(), "{}: {} is {}, not a list", source, walked, what_is(next));
      DLT_CHECK(index < next.size(), "{}: {}[{}]: index out of range (the list has {} elements)",
                source, walked, index, next.size());
      const YAML::Node element = static_cast<const YAML::Node&>(next)[index];
      next.reset(element);
      walked += fmt::format("[{}]", index);
    }
    if (last) {
      next = value;  // writes through: the document now holds the value here
      return root.with_source(value, source);
    }
    cursor.reset(next);
  }
  throw InternalError("apply_one: the loop returns at the last segment");
}

}  // namespace

Node apply_overrides(const Node& root, const std::vector<std::string>& overrides) {
  Node out = root;
  for (const std::string& arg : overrides) out = apply_one(out, arg);
  return out;
}

}  // namespace dlt::config
