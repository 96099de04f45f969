// Text encodings of 64-bit IDs: decimal, hex, base62, base58 (Bitcoin
// alphabet) and Crockford base32. Encoding never fails; parsing rejects empty
// input, bad characters, values past 64 bits and IDs with the sign bit set,
// with a message that names the problem. All functions are pure and
// thread-safe.
#ifndef SNOWFLAKE_ID_H_
#define SNOWFLAKE_ID_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace snowflake {

enum class Encoding {
  kDecimal,
  kHex,          // Lower-case, no prefix; parsing accepts either case and an
                 // optional "0x".
  kBase62,       // 0-9 A-Z a-z.
  kBase58,       // Bitcoin alphabet: no 0, O, I, l.
  kCrockford32,  // 0-9 A-Z without I L O U; parsing is case-insensitive and
                 // reads I/L as 1 and O as 0, as Crockford specifies.
};

// "decimal", "hex", "base62", "base58", "base32".
std::string_view EncodingName(Encoding encoding);

// Parses a name as printed by EncodingName ("crockford" is accepted for
// base32, "dec" for decimal). Errors: kInvalidArgument listing the names.
absl::StatusOr<Encoding> ParseEncodingName(std::string_view name);

// All encodings, in the order above.
const std::vector<Encoding>& AllEncodings();

// Encodes `id` (the full 64 bits; callers pass IDs with the sign bit clear).
std::string EncodeId(uint64_t id, Encoding encoding);

// Parses `text` in `encoding`. Errors: kInvalidArgument for empty input, a
// character outside the alphabet (named, with its position), a value that
// overflows 64 bits, or a value with the sign bit set (not a valid ID).
absl::StatusOr<uint64_t> ParseId(std::string_view text, Encoding encoding);

}  // namespace snowflake

#endif  // SNOWFLAKE_ID_H_
