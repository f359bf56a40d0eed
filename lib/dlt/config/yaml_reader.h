// Reading YAML with errors that point at the file: every value read through
// Node knows its file, line and column, and its dotted path in the document
// (model.layers[2].out), so a mistake is reported as
//   configs/mlp.yaml:12:9: model.layers[2].out: expected an integer, got 'big'
// Used by the experiment spec (config) and by layers reading their options
// (nn); it knows nothing of either.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dlt/core/shape.h"

namespace dlt::config {

class Node {
 public:
  Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path);
  // Assigning a YAML::Node writes through to the node it refers to; these
  // rebind instead, so `n = n.at("x")` leaves the document alone.
  Node(const Node&) = default;
  Node(Node&&) = default;
  Node& operator=(const Node& other);
  Node& operator=(Node&& other);

  // ---- structure ----
  bool is_map() const;
  bool is_sequence() const;
  bool is_scalar() const;
  bool is_null() const;
  size_t size() const;                       // elements of a sequence or map
  bool has(std::string_view key) const;      // a map with this key
  Node at(std::string_view key) const;       // required key: error names it
  std::optional<Node> find(std::string_view key) const;
  Node at(size_t index) const;               // sequence element
  std::vector<std::string> keys() const;     // of a map, in document order

  // ---- values ----
  // T: bool, int64_t, double, std::string, Shape (a sequence of integers or
  // one integer), std::vector<std::string>. A wrong type is an error naming
  // what was expected and what was found.
  template <class T> T as() const;
  template <class T> T get(std::string_view key) const { return at(key).as<T>(); }
  template <class T> T get_or(std::string_view key, T fallback) const {
    const auto n = find(key);
    return n && !n->is_null() ? n->as<T>() : fallback;
  }

  // ---- validation ----
  // Every key must be in `allowed`; an unknown key is an error that names the
  // closest allowed key ("did you mean 'lr'?").
  void check_keys(std::initializer_list<std::string_view> allowed) const;
  void check_keys(const std::vector<std::string>& allowed) const;
  // Throws dlt::Error "file:line:col: path: message".
  [[noreturn]] void fail(std::string_view message) const;

  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }
  std::string location() const;  // "file:line:col" (1-based)
  const YAML::Node& yaml() const { return node_; }

  // ---- values from elsewhere (--set) ----
  // The same document, except that errors inside `subtree` (a node of this
  // document, e.g. one a --set override put there) name `source` instead of a
  // position in the file.
  Node with_source(const YAML::Node& subtree, const std::string& source) const;

 private:
  struct Source {
    YAML::Node subtree;
    std::shared_ptr<const std::string> name;
  };
  Node child(const YAML::Node& value, const YAML::Mark& key_mark, std::string path) const;
  Node(const Node& parent, const YAML::Node& value, std::string path, YAML::Mark mark);

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
  YAML::Mark mark_;         // where the value starts; its key's position when it is empty
  bool positioned_ = true;  // false inside a --set value: file_ names the argument
  std::shared_ptr<const std::vector<Source>> sources_;
};

// Parses a YAML file; syntax errors become dlt::Error with file:line:col.
Node load_file(const std::string& path);
// Parses YAML text (tests, --set values); `name` stands in for a file name.
Node load_string(const std::string& text, const std::string& name);

// The candidate closest to `word` by edit distance, or empty if none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dlt::config
