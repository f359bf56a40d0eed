#include "dlt/data/utf8.h"

#include "dlt/core/error.h"

namespace dlt::data {

int utf8_length(unsigned char b) {
  return b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
}

std::vector<char32_t> decode_utf8(std::string_view s, const std::string& where) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = uint8_t(s[i]);
    const int len = utf8_length(b);
    DLT_CHECK(len > 0 && i + size_t(len) <= s.size(), "{}: invalid UTF-8 at byte {}", where, i);
    char32_t c = len == 1 ? b : b & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto cont = uint8_t(s[i + size_t(k)]);
      DLT_CHECK((cont >> 6) == 0x2, "{}: invalid UTF-8 at byte {}", where, i);
      c = c << 6 | (cont & 0x3F);
    }
    out.push_back(c);
    i += size_t(len);
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | c >> 6), out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | c >> 12), out += char(0x80 | (c >> 6 & 0x3F)), out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | c >> 18), out += char(0x80 | (c >> 12 & 0x3F));
    out += char(0x80 | (c >> 6 & 0x3F)), out += char(0x80 | (c & 0x3F));
  }
}

}  // namespace dlt::data
