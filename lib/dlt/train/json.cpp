#include "dlt/train/json.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <optional>

#include "dlt/core/error.h"

namespace dlt::train {

// ---- values -------------------------------------------------------------------

Json Json::boolean(bool b) {
  Json j;
  j.kind_ = Kind::boolean;
  j.bool_ = b;
  return j;
}

Json Json::number(double v) {
  if (!std::isfinite(v)) return Json();  // JSON has no nan/inf
  Json j;
  j.kind_ = Kind::number;
  j.text_ = fmt::format("{}", v);  // shortest text that reads back as v
  return j;
}

Json Json::integer(int64_t v) {
  Json j;
  j.kind_ = Kind::number;
  j.text_ = fmt::format("{}", v);
  return j;
}

Json Json::unsigned_integer(uint64_t v) {
  Json j;
  j.kind_ = Kind::number;
  j.text_ = fmt::format("{}", v);
  return j;
}

Json Json::string(std::string s) {
  Json j;
  j.kind_ = Kind::string;
  j.text_ = std::move(s);
  return j;
}

Json Json::array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::array;
  j.items_ = std::move(items);
  return j;
}

Json Json::object(Members members) {
  Json j;
  j.kind_ = Kind::object;
  j.members_ = std::move(members);
  return j;
}

const char* Json::kind_name(Kind k) {
  switch (k) {
    case Kind::null: return "null";
    case Kind::boolean: return "a boolean";
    case Kind::number: return "a number";
    case Kind::string: return "a string";
    case Kind::array: return "an array";
    case Kind::object: return "an object";
  }
  return "?";
}

namespace {

[[noreturn]] void wrong_kind(std::string_view what, std::string_view expected, const char* got) {
  throw Error(fmt::format("{}: expected {}, got {}", what, expected, got));
}

template <class T> T parse_integer(const std::string& text, std::string_view what) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range)
    throw Error(fmt::format("{}: {} is out of range", what, text));
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("{}: expected {}integer, got {}", what,
                            std::is_signed_v<T> ? "an " : "a non-negative ", text));
  return v;
}

}  // namespace

bool Json::as_bool(std::string_view what) const {
  if (kind_ != Kind::boolean) wrong_kind(what, "a boolean", kind_name(kind_));
  return bool_;
}

double Json::as_double(std::string_view what) const {
  if (kind_ == Kind::null) return std::nan("");  // how non-finite numbers are written
  if (kind_ != Kind::number) wrong_kind(what, "a number", kind_name(kind_));
  double v = 0;
  const auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec == std::errc::result_out_of_range) return text_[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  DLT_ASSERT(ec == std::errc() && end == text_.data() + text_.size(), "number literal {}", text_);
  return v;
}

int64_t Json::as_int(std::string_view what) const {
  if (kind_ != Kind::number) wrong_kind(what, "an integer", kind_name(kind_));
  return parse_integer<int64_t>(text_, what);
}

uint64_t Json::as_uint(std::string_view what) const {
  if (kind_ != Kind::number) wrong_kind(what, "a non-negative integer", kind_name(kind_));
  return parse_integer<uint64_t>(text_, what);
}

const std::string& Json::as_string(std::string_view what) const {
  if (kind_ != Kind::string) wrong_kind(what, "a string", kind_name(kind_));
  return text_;
}

const std::vector<Json>& Json::items(std::string_view what) const {
  if (kind_ != Kind::array) wrong_kind(what, "an array", kind_name(kind_));
  return items_;
}

const Json::Members& Json::members(std::string_view what) const {
  if (kind_ != Kind::object) wrong_kind(what, "an object", kind_name(kind_));
  return members_;
}

const Json* Json::find(std::string_view key) const {
  if (kind_ != Kind::object) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(std::string_view key) const {
  if (kind_ != Kind::object) wrong_kind(key, "an object around it", kind_name(kind_));
  const Json* v = find(key);
  if (!v) throw Error(fmt::format("missing key \"{}\"", key));
  return *v;
}

Json& Json::set(std::string key, Json value) {
  DLT_ASSERT(kind_ == Kind::object, "Json::set on {}", kind_name(kind_));
  for (auto& [k, v] : members_)
    if (k == key) return v = std::move(value);
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

Json& Json::push(Json value) {
  DLT_ASSERT(kind_ == Kind::array, "Json::push on {}", kind_name(kind_));
  items_.push_back(std::move(value));
  return items_.back();
}

// ---- writing ------------------------------------------------------------------

namespace {

using ordered = nlohmann::ordered_json;

// Numbers keep their kind: integers exactly, other numbers as doubles (whose
// shortest text reads back as the same double).
ordered to_nlohmann(const Json& j) {
  switch (j.kind()) {
    case Json::Kind::null: return nullptr;
    case Json::Kind::boolean: return j.as_bool("value");
    case Json::Kind::number: {
      const std::string& t = j.dump();
      if (t.find_first_of(".eE") == std::string::npos) {
        if (t[0] == '-') return j.as_int("value");
        return j.as_uint("value");
      }
      return j.as_double("value");
    }
    case Json::Kind::string: return j.as_string("value");
    case Json::Kind::array: {
      ordered a = ordered::array();
      for (const Json& item : j.items("value")) a.push_back(to_nlohmann(item));
      return a;
    }
    case Json::Kind::object: {
      ordered o = ordered::object();
      for (const auto& [key, value] : j.members("value")) o[key] = to_nlohmann(value);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

std::string Json::dump() const {
  if (kind_ == Kind::number) return text_;  // as written or read
  // Invalid UTF-8 in a string becomes U+FFFD rather than an exception.
  return to_nlohmann(*this).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- reading ------------------------------------------------------------------

// Builds a Json from nlohmann's SAX events, refusing what a hostile file
// could use against a reader: nesting deeper than 64 and duplicate keys
// (whose value would depend on the reader). Numbers keep their literal text.
class JsonParser final : public nlohmann::json_sax<nlohmann::json> {
 public:
  Json document(std::string_view text) {
    nlohmann::json::sax_parse(text.begin(), text.end(), this);
    if (error_) throw Error(*error_);
    DLT_ASSERT(stack_.empty() && done_, "the JSON parser ended inside a value");
    return std::move(root_);
  }

  bool null() override { return put(Json()); }
  bool boolean(bool v) override { return put(Json::boolean(v)); }
  bool number_integer(number_integer_t v) override { return put(Json::integer(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(Json::unsigned_integer(v)); }
  bool number_float(number_float_t v, const string_t& literal) override {
    if (!std::isfinite(v)) return fail(fmt::format("number {} is out of range", literal));
    Json j = Json::number(v);
    j.text_ = literal;
    return put(std::move(j));
  }
  bool string(string_t& v) override { return put(Json::string(std::move(v))); }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) override { return open(Json::object()); }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    for (const auto& [name, value] : f.value.members_)
      if (name == k) return fail(fmt::format("duplicate key \"{}\"", k));
    f.key = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ..." -> "syntax error ..."
    std::string why = e.what();
    if (const size_t colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
    // nlohmann counts the characters read, the failing one included: the byte offset is one less.
    error_ = fmt::format("invalid JSON at byte {}: {}", position > 0 ? position - 1 : 0, why);
    return false;
  }

 private:
  static constexpr size_t kMaxDepth = 64;
  struct Frame {
    Json value;
    std::string key;  // objects: the key of the value being read
  };

  bool fail(std::string what) {
    error_ = fmt::format("invalid JSON: {}", what);
    return false;
  }
  bool put(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      done_ = true;
      return true;
    }
    Frame& f = stack_.back();
    if (f.value.is_array())
      f.value.items_.push_back(std::move(v));
    else
      f.value.members_.emplace_back(std::move(f.key), std::move(v));
    return true;
  }
  bool open(Json container) {
    if (stack_.size() >= kMaxDepth) return fail(fmt::format("nested too deeply (more than {} levels)", kMaxDepth));
    stack_.push_back({std::move(container), {}});
    return true;
  }
  bool close() {
    Json v = std::move(stack_.back().value);
    stack_.pop_back();
    return put(std::move(v));
  }

  std::vector<Frame> stack_;
  Json root_;
  bool done_ = false;
  std::optional<std::string> error_;
};

Json parse_json(std::string_view text) { return JsonParser().document(text); }

}  // namespace dlt::train
