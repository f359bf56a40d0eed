// A small JSON value for the files dlt reads and writes itself: safetensors
// headers, checkpoint state.json and metrics.jsonl. Reading and writing go
// through nlohmann-json; this value adds typed access whose errors name what
// was asked for, keeps numbers' literal text (64-bit integers such as byte
// and RNG offsets round-trip exactly) and keeps objects' key order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dlt::train {

class Json {
 public:
  enum class Kind { null, boolean, number, string, array, object };
  using Members = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  static Json boolean(bool b);
  static Json number(double v);   // non-finite values are written as null
  static Json integer(int64_t v);
  static Json unsigned_integer(uint64_t v);
  static Json string(std::string s);
  static Json array(std::vector<Json> items = {});
  static Json object(Members members = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_number() const { return kind_ == Kind::number; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  // Typed access; the wrong kind, or a number out of range or not an
  // integer, throws dlt::Error naming `what` (e.g. "step").
  bool as_bool(std::string_view what) const;
  double as_double(std::string_view what) const;
  int64_t as_int(std::string_view what) const;
  uint64_t as_uint(std::string_view what) const;
  const std::string& as_string(std::string_view what) const;
  const std::vector<Json>& items(std::string_view what) const;
  const Members& members(std::string_view what) const;

  // Objects: find returns null when the key is absent; at throws naming it.
  const Json* find(std::string_view key) const;
  const Json& at(std::string_view key) const;
  Json& set(std::string key, Json value);  // appends, or replaces an existing key
  Json& push(Json value);                  // arrays

  std::string dump() const;  // compact, one line

 private:
  friend class JsonParser;
  static const char* kind_name(Kind k);
  Kind kind_ = Kind::null;
  bool bool_ = false;
  std::string text_;  // the string's value, or the number's literal
  std::vector<Json> items_;
  Members members_;
};

// Parses one JSON value that fills `text` (surrounding whitespace allowed).
// Malformed input throws dlt::Error "invalid JSON at byte N: ..."; duplicate
// object keys and nesting deeper than 64 (what a hostile safetensors header
// could use) throw "invalid JSON: ...".
Json parse_json(std::string_view text);

}  // namespace dlt::train
