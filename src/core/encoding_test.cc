#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/id.h"

namespace snowflake {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMaxId = (uint64_t{1} << 63) - 1;

// One value written in every encoding. Computed independently with Python:
//   def enc(n, a):
//       s = ''
//       while True:
//           s = a[n % len(a)] + s; n //= len(a)
//           if n == 0: return s
struct Vector {
  uint64_t value;
  std::string_view decimal;
  std::string_view hex;
  std::string_view base62;
  std::string_view base58;
  std::string_view base32;

  std::string_view In(Encoding encoding) const {
    switch (encoding) {
      case Encoding::kDecimal:
        return decimal;
      case Encoding::kHex:
        return hex;
      case Encoding::kBase62:
        return base62;
      case Encoding::kBase58:
        return base58;
      case Encoding::kCrockford32:
        return base32;
    }
    return "";
  }
};

// Valid IDs: 0, 1, the largest digit, the base itself, an arbitrary value,
// and 2^63 - 1 (the largest ID).
constexpr Vector kValid[] = {
    {0, "0", "0", "0", "1", "0"},
    {1, "1", "1", "1", "2", "1"},
    {9, "9", "9", "9", "A", "9"},
    {15, "15", "f", "F", "G", "F"},
    {31, "31", "1f", "V", "Y", "Z"},
    {57, "57", "39", "v", "z", "1S"},
    {58, "58", "3a", "w", "21", "1T"},
    {61, "61", "3d", "z", "24", "1X"},
    {62, "62", "3e", "10", "25", "1Y"},
    {1234567890123456789, "1234567890123456789", "112210f47de98115",
     "1TCKi1nFuNh", "3sDK21t5nHJ", "128GGYHYYK08N"},
    {kMaxId, "9223372036854775807", "7fffffffffffffff", "AzL8n0Y58m7",
     "NQm6nKp8qFC", "7ZZZZZZZZZZZZ"},
};

// 2^63 and 2^64 - 1: fit in 64 bits but have the sign bit set.
constexpr Vector kSignBit[] = {
    {uint64_t{1} << 63, "9223372036854775808", "8000000000000000",
     "AzL8n0Y58m8", "NQm6nKp8qFD", "8000000000000"},
    {UINT64_MAX, "18446744073709551615", "ffffffffffffffff", "LygHa16AHYF",
     "jpXCZedGfVQ", "FZZZZZZZZZZZZ"},
};

// 2^64: one past the largest 64-bit value.
constexpr Vector kTwoToThe64 = {0,
                                "18446744073709551616",
                                "10000000000000000",
                                "LygHa16AHYG",
                                "jpXCZedGfVR",
                                "G000000000000"};

// The largest digit of each alphabet.
char MaxDigit(Encoding encoding) {
  switch (encoding) {
    case Encoding::kDecimal:
      return '9';
    case Encoding::kHex:
      return 'f';
    case Encoding::kBase62:
    case Encoding::kBase58:
      return 'z';
    case Encoding::kCrockford32:
      return 'Z';
  }
  return '?';
}

void ExpectInvalid(std::string_view text, Encoding encoding,
                   std::string_view message_part) {
  absl::StatusOr<uint64_t> parsed = ParseId(text, encoding);
  ASSERT_FALSE(parsed.ok())
      << EncodingName(encoding) << " \"" << text << "\" parsed as " << *parsed;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr(message_part))
      << EncodingName(encoding) << " \"" << text << "\"";
  EXPECT_THAT(parsed.status().message(), Not(HasSubstr("\n")));
}

TEST(EncodingTest, NamesRoundTrip) {
  ASSERT_EQ(AllEncodings().size(), 5u);
  for (Encoding encoding : AllEncodings()) {
    absl::StatusOr<Encoding> parsed = ParseEncodingName(EncodingName(encoding));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, encoding);
  }
}

TEST(EncodingTest, NamesInOrder) {
  std::vector<std::string_view> names;
  for (Encoding encoding : AllEncodings()) {
    names.push_back(EncodingName(encoding));
  }
  EXPECT_THAT(names, ::testing::ElementsAre("decimal", "hex", "base62",
                                            "base58", "base32"));
}

TEST(EncodingTest, NameAliasesAndCase) {
  EXPECT_EQ(ParseEncodingName("dec").value(), Encoding::kDecimal);
  EXPECT_EQ(ParseEncodingName("crockford").value(), Encoding::kCrockford32);
  EXPECT_EQ(ParseEncodingName("HEX").value(), Encoding::kHex);
  EXPECT_EQ(ParseEncodingName("Base58").value(), Encoding::kBase58);
}

TEST(EncodingTest, BadNameListsTheChoices) {
  for (std::string_view bad : {"base64", "", "decimal ", "b58", "base-32"}) {
    absl::StatusOr<Encoding> parsed = ParseEncodingName(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(),
                AllOf(HasSubstr("unknown encoding"), HasSubstr("decimal"),
                      HasSubstr("hex"), HasSubstr("base62"),
                      HasSubstr("base58"), HasSubstr("base32")));
  }
}

TEST(EncodingTest, KnownVectors) {
  for (const Vector& v : kValid) {
    for (Encoding encoding : AllEncodings()) {
      SCOPED_TRACE(::testing::Message()
                   << EncodingName(encoding) << " " << v.value);
      EXPECT_EQ(EncodeId(v.value, encoding), v.In(encoding));
      absl::StatusOr<uint64_t> parsed = ParseId(v.In(encoding), encoding);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(*parsed, v.value);
    }
  }
}

TEST(EncodingTest, EncodeWritesAllSixtyFourBits) {
  // Callers should not encode sign-bit values, but encoding is total.
  for (const Vector& v : kSignBit) {
    for (Encoding encoding : AllEncodings()) {
      EXPECT_EQ(EncodeId(v.value, encoding), v.In(encoding))
          << EncodingName(encoding);
    }
  }
}

TEST(EncodingTest, RandomRoundTrip) {
  std::mt19937_64 rng(20250101);
  constexpr int kCount = 100'000;
  for (Encoding encoding : AllEncodings()) {
    for (int i = 0; i < kCount; ++i) {
      // Vary the magnitude too, so short encodings are covered.
      const uint64_t id = (rng() & kMaxId) >> (rng() % 63);
      const std::string text = EncodeId(id, encoding);
      absl::StatusOr<uint64_t> parsed = ParseId(text, encoding);
      ASSERT_TRUE(parsed.ok())
          << EncodingName(encoding) << " " << id << ": " << parsed.status();
      ASSERT_EQ(*parsed, id) << EncodingName(encoding) << " \"" << text << "\"";
    }
  }
}

TEST(EncodingTest, FullWidthRandomRoundTrip) {
  std::mt19937_64 rng(42);
  for (Encoding encoding : AllEncodings()) {
    for (int i = 0; i < 100'000; ++i) {
      const uint64_t id = rng() & kMaxId;
      absl::StatusOr<uint64_t> parsed =
          ParseId(EncodeId(id, encoding), encoding);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      ASSERT_EQ(*parsed, id);
    }
  }
}

TEST(EncodingTest, EncodingPreservesOrderAtFixedWidth) {
  // Every alphabet is in ASCII order (digits < upper < lower case), so
  // within one encoded length string order is numeric order: stored IDs of
  // equal length sort by time.
  std::mt19937_64 rng(7);
  for (Encoding encoding : AllEncodings()) {
    for (int i = 0; i < 10'000; ++i) {
      uint64_t a = rng() & kMaxId;
      uint64_t b = rng() & kMaxId;
      std::string ea = EncodeId(a, encoding);
      std::string eb = EncodeId(b, encoding);
      if (ea.size() != eb.size()) continue;
      ASSERT_EQ(a < b, ea < eb)
          << EncodingName(encoding) << " " << a << " " << b;
    }
  }
}

TEST(EncodingTest, EmptyInput) {
  for (Encoding encoding : AllEncodings()) {
    ExpectInvalid("", encoding, "empty");
  }
  ExpectInvalid("0x", Encoding::kHex, "empty");
  ExpectInvalid("0X", Encoding::kHex, "empty");
}

TEST(EncodingTest, HexPrefixAndCase) {
  EXPECT_EQ(ParseId("0x7fffffffffffffff", Encoding::kHex).value(), kMaxId);
  EXPECT_EQ(ParseId("0X7FFFFFFFFFFFFFFF", Encoding::kHex).value(), kMaxId);
  EXPECT_EQ(ParseId("7FfFfFfFfFfFfFfF", Encoding::kHex).value(), kMaxId);
  EXPECT_EQ(ParseId("0xABCDEF", Encoding::kHex).value(), 0xabcdefu);
  EXPECT_EQ(ParseId("0", Encoding::kHex).value(), 0u);
  EXPECT_EQ(ParseId("0x0", Encoding::kHex).value(), 0u);
  EXPECT_EQ(ParseId("00", Encoding::kHex).value(), 0u);
  // Encoding is lower-case without a prefix.
  EXPECT_EQ(EncodeId(0xabcdef, Encoding::kHex), "abcdef");
}

TEST(EncodingTest, HexBadPrefixes) {
  ExpectInvalid("x1", Encoding::kHex, "bad character 'x' at position 1");
  ExpectInvalid("0x0x1", Encoding::kHex, "bad character 'x' at position 4");
  ExpectInvalid("-0x1", Encoding::kHex, "bad character '-' at position 1");
  ExpectInvalid("0xg", Encoding::kHex, "bad character 'g' at position 3");
  ExpectInvalid(" 0x1", Encoding::kHex, "bad character ' ' at position 1");
}

TEST(EncodingTest, CrockfordIsCaseInsensitiveWithAliases) {
  const uint64_t id = ParseId("128GGYHYYK08N", Encoding::kCrockford32).value();
  EXPECT_EQ(id, 1234567890123456789u);
  EXPECT_EQ(ParseId("128ggyhyyk08n", Encoding::kCrockford32).value(), id);
  // I and L read as 1, O as 0, in either case.
  EXPECT_EQ(ParseId("I28GGYHYYKO8N", Encoding::kCrockford32).value(), id);
  EXPECT_EQ(ParseId("l28ggyhyyko8n", Encoding::kCrockford32).value(), id);
  EXPECT_EQ(ParseId("L", Encoding::kCrockford32).value(), 1u);
  EXPECT_EQ(ParseId("i", Encoding::kCrockford32).value(), 1u);
  EXPECT_EQ(ParseId("o", Encoding::kCrockford32).value(), 0u);
  EXPECT_EQ(ParseId("O", Encoding::kCrockford32).value(), 0u);
  // Encoding uses the canonical upper-case symbols only.
  EXPECT_EQ(EncodeId(id, Encoding::kCrockford32), "128GGYHYYK08N");
}

TEST(EncodingTest, LeadingZerosAreAccepted) {
  EXPECT_EQ(ParseId("0000000000000000000000000042", Encoding::kDecimal).value(),
            42u);
  EXPECT_EQ(ParseId("00000000000000000000002a", Encoding::kHex).value(), 42u);
  // In base58 '1' is the zero digit.
  EXPECT_EQ(ParseId("11111111111111111111", Encoding::kBase58).value(), 0u);
}

TEST(EncodingTest, DecimalRejectsSignsAndWhitespace) {
  const Encoding d = Encoding::kDecimal;
  ExpectInvalid("+1", d, "bad character '+' at position 1 of decimal ID");
  ExpectInvalid("-1", d, "bad character '-' at position 1 of decimal ID");
  ExpectInvalid("-0", d, "bad character '-' at position 1");
  ExpectInvalid(" 1", d, "bad character ' ' at position 1");
  ExpectInvalid("1 ", d, "bad character ' ' at position 2");
  ExpectInvalid("\t1", d, "bad character '\\t' at position 1");
  ExpectInvalid("1\n", d, "bad character '\\n' at position 2");
  ExpectInvalid("1\r\n", d, "bad character '\\r' at position 2");
  ExpectInvalid("12 34", d, "bad character ' ' at position 3");
  ExpectInvalid("1.0", d, "bad character '.' at position 2");
  ExpectInvalid("1e3", d, "bad character 'e' at position 2");
  ExpectInvalid("1_000", d, "bad character '_' at position 2");
  ExpectInvalid("0x10", d, "bad character 'x' at position 2");
  ExpectInvalid("\xef\xbc\x91", d, "bad character '\\xef' at position 1");
  ExpectInvalid(std::string_view("1\0", 2), d,
                "bad character '\\x00' at position 2");
}

TEST(EncodingTest, BadCharacterPerEncoding) {
  struct Case {
    Encoding encoding;
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {Encoding::kDecimal, "12a4", "bad character 'a' at position 3"},
      {Encoding::kHex, "12g4", "bad character 'g' at position 3"},
      {Encoding::kHex, "12G4", "bad character 'G' at position 3"},
      {Encoding::kBase62, "ab-c", "bad character '-' at position 3"},
      {Encoding::kBase62, "ab_c", "bad character '_' at position 3"},
      {Encoding::kBase62, "a+/", "bad character '+' at position 2"},
      {Encoding::kBase58, "0abc", "bad character '0' at position 1"},
      {Encoding::kBase58, "abOc", "bad character 'O' at position 3"},
      {Encoding::kBase58, "abcI", "bad character 'I' at position 4"},
      {Encoding::kBase58, "lab", "bad character 'l' at position 1"},
      {Encoding::kCrockford32, "ABU", "bad character 'U' at position 3"},
      {Encoding::kCrockford32, "abu", "bad character 'u' at position 3"},
      // Crockford allows hyphens for readability; we do not (IDs are never
      // written with them), so say so rather than guess.
      {Encoding::kCrockford32, "AB-CD", "bad character '-' at position 3"},
      {Encoding::kCrockford32, "AB*", "bad character '*' at position 3"},
  };
  for (const Case& c : cases) {
    ExpectInvalid(c.text, c.encoding, c.message);
    ExpectInvalid(c.text, c.encoding,
                  std::string(EncodingName(c.encoding)) + " ID");
    // The input is quoted in the message.
    ExpectInvalid(c.text, c.encoding, "\"" + std::string(c.text) + "\"");
  }
}

TEST(EncodingTest, BadCharacterMessageHintsAtBase58Alphabet) {
  ExpectInvalid("0", Encoding::kBase58, "no 0, O, I or l");
}

TEST(EncodingTest, LongInputIsShortenedInMessage) {
  const std::string text = std::string(1000, '1') + "x";
  absl::StatusOr<uint64_t> parsed = ParseId(text, Encoding::kDecimal);
  ASSERT_FALSE(parsed.ok());
  // The bad character is reported even though the value overflowed first.
  EXPECT_THAT(parsed.status().message(),
              AllOf(HasSubstr("bad character 'x' at position 1001"),
                    HasSubstr("(first 40 of 1001 bytes)")));
  EXPECT_LT(parsed.status().message().size(), 200u);
}

TEST(EncodingTest, OverflowPastSixtyFourBits) {
  for (Encoding encoding : AllEncodings()) {
    SCOPED_TRACE(EncodingName(encoding));
    // Exactly 2^64.
    ExpectInvalid(kTwoToThe64.In(encoding), encoding, "overflows 64 bits");
    // The largest digit, one more than 2^64 - 1 can hold.
    const size_t digits = EncodeId(UINT64_MAX, encoding).size();
    ExpectInvalid(std::string(digits + 1, MaxDigit(encoding)), encoding,
                  "overflows 64 bits");
    // As many of the largest digit as 2^64 - 1 has: only in hex is that
    // still 64 bits (ffff...f, the sign bit is set); the others overflow.
    ExpectInvalid(std::string(digits, MaxDigit(encoding)), encoding,
                  encoding == Encoding::kHex ? "the sign bit is set"
                                             : "overflows 64 bits");
    // Many digits.
    ExpectInvalid(std::string(100, MaxDigit(encoding)), encoding,
                  "overflows 64 bits");
  }
  ExpectInvalid("0x10000000000000000", Encoding::kHex, "overflows 64 bits");
}

TEST(EncodingTest, SignBitSet) {
  for (const Vector& v : kSignBit) {
    for (Encoding encoding : AllEncodings()) {
      ExpectInvalid(v.In(encoding), encoding,
                    "not a valid ID: the sign bit is set");
    }
  }
  ExpectInvalid("0x8000000000000000", Encoding::kHex, "sign bit is set");
  ExpectInvalid("0XFFFFFFFFFFFFFFFF", Encoding::kHex, "sign bit is set");
  // Just below the sign bit is the largest valid ID.
  for (Encoding encoding : AllEncodings()) {
    EXPECT_EQ(ParseId(EncodeId(kMaxId, encoding), encoding).value(), kMaxId);
  }
}

}  // namespace
}  // namespace snowflake
