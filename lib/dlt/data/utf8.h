// UTF-8 <-> code points, for the character vocabulary and its tokenizer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dlt::data {

// UTF-8 -> code points; malformed input is an error "<where>: invalid UTF-8
// at byte N".
std::vector<char32_t> decode_utf8(std::string_view s, const std::string& where);

// Appends the UTF-8 encoding of `c`.
void append_utf8(std::string& out, char32_t c);

// Byte length of the UTF-8 sequence that starts with `lead`; 0 when `lead`
// cannot start one (a continuation byte or 0xF8 and above).
int utf8_length(unsigned char lead);

}  // namespace dlt::data
