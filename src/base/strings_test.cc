#include "src/base/strings.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace snowflake::base {
namespace {

TEST(StringsTest, CatTakesStdAndAbslViewsAndNumbers) {
  const std::string s = "std";
  EXPECT_EQ(Cat(s, "/", absl::string_view("absl"), '/', std::string_view("sv"),
                ":", int64_t{-42}, ":", 7u, ":", true),
            "std/absl/sv:-42:7:true");
  std::string out = "a";
  Append(out, "b", 1);
  EXPECT_EQ(out, "ab1");
}

TEST(StringsTest, ParseIntTakesWholeSignedDecimalsOnly) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt("42", v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(ParseInt("-9", v));
  EXPECT_EQ(v, -9);
  EXPECT_TRUE(ParseInt("9223372036854775807", v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  for (const char* bad : {"", "+7", "+", "-", "+-1", "1 ", " 1", "1x", "0x10",
                          "1.5", "9223372036854775808"}) {
    EXPECT_FALSE(ParseInt(bad, v)) << '"' << bad << '"';
  }
}

TEST(StringsTest, TrimRemovesAsciiBlanksAtBothEnds) {
  EXPECT_EQ(Trim(" \t\r\n a b \v\f"), "a b");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(StringsTest, SplitKeepsEmptyPieces) {
  const auto parts = Split("a,,b,", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[2], "b");
  EXPECT_EQ(parts[3], "");
  EXPECT_EQ(Split("", ',').size(), 1u);
}

TEST(StringsTest, TakePieceWalksWhatSplitReturns) {
  for (std::string_view text : {"a,,b", "a,", ",", "one", ""}) {
    std::vector<std::string_view> pieces;
    std::string_view rest = text;
    do {
      pieces.push_back(TakePiece(rest, ','));
    } while (!rest.empty());
    // Split keeps a trailing empty piece; a walk that stops at an empty
    // rest does not see it.
    std::vector<std::string_view> split = Split(text, ',');
    if (text.ends_with(',')) split.pop_back();
    EXPECT_EQ(pieces, split) << text;
  }
}

TEST(StringsTest, JoinLowerAndOneLine) {
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(ToLower("Chunked-X"), "chunked-x");
  EXPECT_TRUE(EqualsIgnoringCase("Application/JSON", "application/json"));
  EXPECT_FALSE(EqualsIgnoringCase("application/jso", "application/json"));
  EXPECT_FALSE(EqualsIgnoringCase("text/plaim", "text/plain"));
  EXPECT_EQ(OneLine("one\ntwo\r\nthree"), "one two  three");
}

TEST(StringsTest, QuoteEscapesAndShortens) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote("\n\xff"), "\"\\x0a\\xff\"");
  EXPECT_EQ(Quote(std::string(100, 'x'), 4), "\"xxxx\" (first 4 of 100 bytes)");
  EXPECT_EQ(Quote("abcd", 4), "\"abcd\"");
}

TEST(StringsTest, MessageAndViewsCrossBetweenAbslAndStd) {
  EXPECT_EQ(Message(absl::InvalidArgumentError("bad")), "bad");
  const std::string_view sv = "text";
  EXPECT_EQ(StdView(AbslView(sv)), sv);
  EXPECT_EQ(AbslView(sv).data(), sv.data());
}

TEST(Utf8Test, InvalidBytesAreReplaced) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // Overlong.
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80").size(), 9u);       // A surrogate.
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80").size(), 12u);  // Past U+10FFFF.
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // Cut.
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80!"), 4u);
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);
}

}  // namespace
}  // namespace snowflake::base
