// Small string helpers shared by every part of the project: building
// messages, parsing numbers and lists, and quoting input safely.
//
// Debian 12's Abseil is built for C++14, so absl::string_view is its own type
// there, not std::string_view; AbslView and StdView cross between the two,
// and Cat takes both, where absl::StrCat would take only Abseil's.
#ifndef SNOWFLAKE_SRC_BASE_STRINGS_H_
#define SNOWFLAKE_SRC_BASE_STRINGS_H_

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace snowflake::base {

inline absl::string_view AbslView(std::string_view s) {
  return {s.data(), s.size()};
}

inline std::string_view StdView(absl::string_view s) {
  return {s.data(), s.size()};
}

// A status's message, as a std::string.
inline std::string Message(const absl::Status& status) {
  return std::string(StdView(status.message()));
}

inline void AppendOne(std::string& out, std::string_view s) { out.append(s); }
inline void AppendOne(std::string& out, const char* s) { out.append(s); }
inline void AppendOne(std::string& out, const std::string& s) { out.append(s); }
inline void AppendOne(std::string& out, absl::string_view s) {
  out.append(s.data(), s.size());
}
inline void AppendOne(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
void AppendOne(std::string& out, T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}
inline void AppendOne(std::string& out, bool value) {
  out.append(value ? "true" : "false");
}

// Concatenates strings (std or absl views), characters and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendOne(out, args), ...);
  return out;
}

// Appends to `out` what Cat would return.
template <typename... Args>
void Append(std::string& out, const Args&... args) {
  (AppendOne(out, args), ...);
}

// A whole decimal number, negative with a leading '-'; false, with `out`
// unspecified, on anything else ('+', blanks, other characters, overflow).
bool ParseInt(std::string_view text, int64_t& out);

// `text` without leading and trailing ASCII blanks (space, tab, CR, LF,
// vertical tab, form feed).
std::string_view Trim(std::string_view text);

// `text` with ASCII capitals made small.
std::string ToLower(std::string_view text);

// Whether `a` and `b` are equal but for the case of ASCII letters.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// `text` split at every `sep`, keeping empty pieces ("a,,b" gives three).
std::vector<std::string_view> Split(std::string_view text, char sep);

// Split one piece at a time, with no allocation: the part of `rest` before
// its first `sep` (all of `rest` if none), and `rest` becomes what follows
// that `sep` (empty if none).
std::string_view TakePiece(std::string_view& rest, char sep);

// `items` with `sep` between them.
std::string Join(std::initializer_list<std::string_view> items,
                 std::string_view sep);

// `text` with every line break (CR, LF) made a space, so that a message
// stays one line of a log or a terminal.
std::string OneLine(std::string_view text);

// `text` in double quotes, safe to put in a one-line message: quotes and
// backslashes escaped, bytes outside printable ASCII as \xNN, and input
// longer than `max_bytes` cut there, followed by "(first N of M bytes)".
std::string Quote(std::string_view text, size_t max_bytes = 64);

// Length of the valid UTF-8 sequence at the start of `text` (not empty), 0
// if it is none: a stray continuation byte, a truncated sequence, an
// overlong form, a surrogate or a code point above U+10FFFF.
size_t Utf8SequenceLength(std::string_view text);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD,
// for formats that hold only UTF-8 (proto3 strings, JSON).
std::string ToValidUtf8(std::string_view text);

}  // namespace snowflake::base

#endif  // SNOWFLAKE_SRC_BASE_STRINGS_H_
