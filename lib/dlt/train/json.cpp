#include "dlt/train/json.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>

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

void dump_string(const std::string& s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;  // UTF-8 bytes pass through
    }
  }
  out += '"';
}

}  // namespace

std::string Json::dump() const {
  std::string out;
  switch (kind_) {
    case Kind::null: return "null";
    case Kind::boolean: return bool_ ? "true" : "false";
    case Kind::number: return text_;
    case Kind::string: dump_string(text_, out); return out;
    case Kind::array:
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ',';
        out += items_[i].dump();
      }
      return out + ']';
    case Kind::object:
      out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ',';
        dump_string(members_[i].first, out);
        out += ':';
        out += members_[i].second.dump();
      }
      return out + '}';
  }
  return out;
}

// ---- reading ------------------------------------------------------------------

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Json document() {
    Json v = value(0);
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(std::string_view what) const {
    if (pos_ >= s_.size()) throw Error(fmt::format("invalid JSON at byte {}: {} (the text ends there)", pos_, what));
    throw Error(fmt::format("invalid JSON at byte {}: {}", pos_, what));
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    skip_space();
    if (pos_ >= s_.size()) fail("expected a value");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json::string(string());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return Json::boolean(true);
    if (literal("false")) return Json::boolean(false);
    if (literal("null")) return Json();
    fail(fmt::format("unexpected character '{}'", c));
  }

  Json object(int depth) {
    ++pos_;  // {
    Json obj = Json::object();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return obj;
    }
    while (true) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a key string");
      const size_t key_at = pos_;
      std::string key = string();
      if (obj.find(key)) {
        pos_ = key_at;
        fail(fmt::format("duplicate key \"{}\"", key));
      }
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
      ++pos_;
      obj.members_.emplace_back(std::move(key), value(depth + 1));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return obj;
      }
      fail("expected ',' or '}'");
    }
  }

  Json array(int depth) {
    ++pos_;  // [
    Json arr = Json::array();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return arr;
    }
    while (true) {
      arr.items_.push_back(value(depth + 1));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return arr;
      }
      fail("expected ',' or ']'");
    }
  }

  Json number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      fail("expected a digit");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) fail("expected a digit after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent");
    }
    Json j;
    j.kind_ = Json::Kind::number;
    j.text_ = std::string(s_.substr(start, pos_ - start));
    return j;
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  static void append_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++pos_;  // "
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;
        fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair makes one code point
            if (!literal("\\u")) fail("unpaired surrogate in \\u escape");
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate in \\u escape");
          }
          append_utf8(cp, out);
          break;
        }
        default: --pos_; fail(fmt::format("unknown escape '\\{}'", e));
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

Json parse_json(std::string_view text) { return JsonParser(text).document(); }

}  // namespace dlt::train
