#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "snowflake/id.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

constexpr std::string_view kDecimalDigits = "0123456789";
constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase62Digits =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase58Digits =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kCrockford32Digits =
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Enough digits for 2^64 - 1 in any encoding (decimal needs the most: 20).
constexpr int kMaxDigits = 20;

// Maps a byte to its digit value, or kNoDigit.
constexpr uint8_t kNoDigit = 0xff;
using DecodeTable = std::array<uint8_t, 256>;

constexpr DecodeTable MakeDecodeTable(std::string_view digits) {
  DecodeTable table{};
  for (uint8_t& entry : table) entry = kNoDigit;
  for (size_t i = 0; i < digits.size(); ++i) {
    table[static_cast<unsigned char>(digits[i])] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr DecodeTable MakeHexTable() {
  DecodeTable table = MakeDecodeTable(kHexDigits);
  for (char c = 'A'; c <= 'F'; ++c) {
    table[static_cast<unsigned char>(c)] = static_cast<uint8_t>(c - 'A' + 10);
  }
  return table;
}

// Crockford: case-insensitive; I and L read as 1, O as 0.
constexpr DecodeTable MakeCrockfordTable() {
  DecodeTable table = MakeDecodeTable(kCrockford32Digits);
  for (size_t i = 10; i < kCrockford32Digits.size(); ++i) {
    const char upper = kCrockford32Digits[i];
    table[static_cast<unsigned char>(upper - 'A' + 'a')] =
        static_cast<uint8_t>(i);
  }
  for (char c : {'I', 'i', 'L', 'l'}) table[static_cast<unsigned char>(c)] = 1;
  for (char c : {'O', 'o'}) table[static_cast<unsigned char>(c)] = 0;
  return table;
}

constexpr DecodeTable kDecimalTable = MakeDecodeTable(kDecimalDigits);
constexpr DecodeTable kHexTable = MakeHexTable();
constexpr DecodeTable kBase62Table = MakeDecodeTable(kBase62Digits);
constexpr DecodeTable kBase58Table = MakeDecodeTable(kBase58Digits);
constexpr DecodeTable kCrockford32Table = MakeCrockfordTable();

using base::AbslView;

// Quotes `text` for an error message: one line, and short, so that a huge
// input cannot flood a log.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 40;
  return base::Quote(text, kMaxQuoted);
}

// A hint for the characters people most often get wrong in each alphabet.
std::string_view AlphabetHint(Encoding encoding) {
  switch (encoding) {
    case Encoding::kDecimal:
      return " (digits 0-9 only: no sign, no spaces)";
    case Encoding::kHex:
      return " (0-9, a-f, A-F, after an optional 0x)";
    case Encoding::kBase62:
      return " (0-9, A-Z, a-z)";
    case Encoding::kBase58:
      return " (the Bitcoin alphabet has no 0, O, I or l)";
    case Encoding::kCrockford32:
      return " (0-9 and A-Z without U)";
  }
  return "";
}

absl::Status BadCharacter(std::string_view text, size_t index,
                          Encoding encoding) {
  return absl::InvalidArgumentError(absl::StrCat(
      "bad character '", absl::CHexEscape(AbslView(text.substr(index, 1))),
      "' at position ", index + 1, " of ", AbslView(EncodingName(encoding)),
      " ID ", Quote(text), AbslView(AlphabetHint(encoding))));
}

// Parses the digits text[begin, size) in base kBase (a template argument so
// multiplication by it is cheap). Error positions count from the start of
// `text`, prefix included.
template <uint64_t kBase>
absl::StatusOr<uint64_t> ParseDigits(std::string_view text, size_t begin,
                                     const DecodeTable& table,
                                     Encoding encoding) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t kMaxBeforeMultiply = kMax / kBase;
  uint64_t value = 0;
  for (size_t i = begin; i < text.size(); ++i) {
    const uint8_t digit = table[static_cast<unsigned char>(text[i])];
    if (digit == kNoDigit) return BadCharacter(text, i, encoding);
    if (value > kMaxBeforeMultiply || value * kBase > kMax - digit) {
      // A bad character further on is the more useful complaint.
      for (size_t j = i + 1; j < text.size(); ++j) {
        if (table[static_cast<unsigned char>(text[j])] == kNoDigit) {
          return BadCharacter(text, j, encoding);
        }
      }
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(EncodingName(encoding)), " ID ", Quote(text),
                       " overflows 64 bits"));
    }
    value = value * kBase + digit;
  }
  if (value >> 63 != 0) {
    // Decimal input is the value itself; other bases also show it in decimal.
    const std::string shown =
        encoding == Encoding::kDecimal ? "" : absl::StrCat(" is ", value);
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ID: the sign bit is set (",
                     AbslView(EncodingName(encoding)), " ", Quote(text), shown,
                     "; the largest ID is 9223372036854775807)"));
  }
  return value;
}

// `id` in base kBase, most significant digit first, without leading zeros.
// The base is a template argument so the division becomes a multiplication.
template <uint64_t kBase>
std::string EncodeDigits(uint64_t id, std::string_view digits) {
  char buf[kMaxDigits];
  int pos = kMaxDigits;
  do {
    buf[--pos] = digits[id % kBase];
    id /= kBase;
  } while (id != 0);
  return std::string(buf + pos, kMaxDigits - pos);
}

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kDecimal:
      return "decimal";
    case Encoding::kHex:
      return "hex";
    case Encoding::kBase62:
      return "base62";
    case Encoding::kBase58:
      return "base58";
    case Encoding::kCrockford32:
      return "base32";
  }
  return "unknown";
}

absl::StatusOr<Encoding> ParseEncodingName(std::string_view name) {
  for (Encoding encoding : AllEncodings()) {
    if (absl::EqualsIgnoreCase(AbslView(name),
                               AbslView(EncodingName(encoding)))) {
      return encoding;
    }
  }
  if (absl::EqualsIgnoreCase(AbslView(name), "dec")) return Encoding::kDecimal;
  if (absl::EqualsIgnoreCase(AbslView(name), "crockford")) {
    return Encoding::kCrockford32;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown encoding ", Quote(name),
      "; expected decimal (or dec), hex, base62, base58 or base32 (or "
      "crockford)"));
}

const std::vector<Encoding>& AllEncodings() {
  static const auto* const kAll = new std::vector<Encoding>{
      Encoding::kDecimal, Encoding::kHex, Encoding::kBase62, Encoding::kBase58,
      Encoding::kCrockford32};
  return *kAll;
}

std::string EncodeId(uint64_t id, Encoding encoding) {
  switch (encoding) {
    case Encoding::kDecimal:
      return EncodeDigits<10>(id, kDecimalDigits);
    case Encoding::kHex:
      return EncodeDigits<16>(id, kHexDigits);
    case Encoding::kBase62:
      return EncodeDigits<62>(id, kBase62Digits);
    case Encoding::kBase58:
      return EncodeDigits<58>(id, kBase58Digits);
    case Encoding::kCrockford32:
      return EncodeDigits<32>(id, kCrockford32Digits);
  }
  return EncodeDigits<10>(id, kDecimalDigits);
}

absl::StatusOr<uint64_t> ParseId(std::string_view text, Encoding encoding) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty ", AbslView(EncodingName(encoding)), " ID"));
  }
  switch (encoding) {
    case Encoding::kDecimal:
      return ParseDigits<10>(text, 0, kDecimalTable, encoding);
    case Encoding::kHex: {
      size_t begin = 0;
      if (text.size() >= 2 && text[0] == '0' &&
          (text[1] == 'x' || text[1] == 'X')) {
        begin = 2;
        if (text.size() == 2) {
          return absl::InvalidArgumentError(
              "empty hex ID: no digits after the 0x prefix");
        }
      }
      return ParseDigits<16>(text, begin, kHexTable, encoding);
    }
    case Encoding::kBase62:
      return ParseDigits<62>(text, 0, kBase62Table, encoding);
    case Encoding::kBase58:
      return ParseDigits<58>(text, 0, kBase58Table, encoding);
    case Encoding::kCrockford32:
      return ParseDigits<32>(text, 0, kCrockford32Table, encoding);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown encoding ", static_cast<int>(encoding)));
}

}  // namespace snowflake
