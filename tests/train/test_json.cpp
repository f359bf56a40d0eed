// The JSON reader and writer behind safetensors headers and state.json.
#include <gtest/gtest.h>

#include <cmath>

#include "dlt/train/json.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

using dlt::testing::expect_error;

TEST(Json, ParsesEveryKindAndKeepsKeyOrder) {
  const Json j = parse_json(R"( {"b": [1, -2.5e3, true, false, null], "a": {"s": "x\"\\\/\n\u00e9\ud83d\ude00"}} )");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.members("root")[0].first, "b");
  const auto& b = j.at("b").items("b");
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0].as_int("b0"), 1);
  EXPECT_EQ(b[1].as_double("b1"), -2500.0);
  EXPECT_TRUE(b[2].as_bool("b2"));
  EXPECT_FALSE(b[3].as_bool("b3"));
  EXPECT_TRUE(b[4].is_null());
  EXPECT_EQ(j.at("a").at("s").as_string("s"), "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(Json, IntegersRoundTripExactlyAt64Bits) {
  const uint64_t big = 18446744073709551615ull;
  const Json j = parse_json(Json::array({Json::unsigned_integer(big), Json::integer(INT64_MIN)}).dump());
  EXPECT_EQ(j.items("a")[0].as_uint("u"), big);
  EXPECT_EQ(j.items("a")[1].as_int("i"), INT64_MIN);
  expect_error([&] { (void)j.items("a")[0].as_int("step"); }, {"step", "out of range"});
  expect_error([&] { (void)j.items("a")[1].as_uint("offset"); }, {"offset", "non-negative integer"});
  expect_error([] { (void)parse_json("1.5").as_int("epoch"); }, {"epoch", "expected an integer, got 1.5"});
}

TEST(Json, DoublesRoundTripAndNonFiniteBecomesNull) {
  for (const double v : {0.1, 1e-300, 3.0, -2.5e17, 0.30000000000000004}) {
    EXPECT_EQ(parse_json(Json::number(v).dump()).as_double("v"), v);
  }
  EXPECT_EQ(Json::number(std::nan("")).dump(), "null");
  EXPECT_TRUE(std::isnan(parse_json("null").as_double("loss")));
}

TEST(Json, WriterEscapesStrings) {
  const std::string s = "tab\there \"q\" \\ \x01 \xc3\xa9";
  const Json j = Json::object({{"k\n", Json::string(s)}});
  EXPECT_EQ(j.dump(), "{\"k\\n\":\"tab\\there \\\"q\\\" \\\\ \\u0001 \xc3\xa9\"}");
  EXPECT_EQ(parse_json(j.dump()).at("k\n").as_string("k"), s);
}

TEST(Json, MalformedInputNamesTheByte) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "byte 0: syntax error while parsing value - unexpected end of input"},
      {"{\"a\": 1,}", "byte 8: syntax error while parsing object key"},
      {"{\"a\": 1 \"b\": 2}", "unexpected string literal; expected '}'"},
      {"[1, 2", "unexpected end of input; expected ']'"},
      {"{\"a\": 1, \"a\": 2}", "duplicate key \"a\""},
      {"\"abc", "missing closing quote"},
      {"\"a\\x\"", "forbidden character after backslash"},
      {"\"\\ud800\"", "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"},
      {"01", "expected end of input"},
      {"-", "expected digit after '-'"},
      {"1.", "expected digit after '.'"},
      {"1e", "after exponent"},
      {"tru", "invalid literal"},
      {"\"a\nb\"", "control character U+000A (LF) must be escaped"},
      {"{} {}", "expected end of input"},
  };
  for (const auto& [text, message] : cases)
    expect_error([&] { (void)parse_json(text); }, {"invalid JSON", message});
  expect_error([] { (void)parse_json(std::string(100, '[') + std::string(100, ']')); },
               {"nested too deeply"});
}

TEST(Json, WrongKindAndMissingKeysNameWhatWasAskedFor) {
  const Json j = parse_json(R"({"step": "ten"})");
  expect_error([&] { (void)j.at("step").as_int("step"); }, {"step: expected an integer, got a string"});
  expect_error([&] { (void)j.at("epoch"); }, {"missing key \"epoch\""});
  expect_error([&] { (void)j.items("root"); }, {"root: expected an array, got an object"});
}

}  // namespace
}  // namespace dlt::train
