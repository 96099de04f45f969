// Small string helpers for the server. Debian's Abseil has its own
// absl::string_view, which std::string_view does not convert to, so the
// server uses these instead of absl::StrCat and friends.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_STR_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_STR_H_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/strings/string_view.h"
#include "src/core/internal/absl_compat.h"  // AbslView, StdView

namespace snowflake::internal {

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

// Concatenates strings (std or absl views) and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendOne(out, args), ...);
  return out;
}
template <typename... Args>
void Append(std::string& out, const Args&... args) {
  (AppendOne(out, args), ...);
}

// Whole decimal number with optional sign; false on anything else.
inline bool ParseInt(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

inline std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits on `sep`, keeping empty pieces.
inline std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

inline std::string Join(std::initializer_list<std::string_view> items,
                        std::string_view sep) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out.append(sep);
    out.append(item);
  }
  return out;
}

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_STR_H_
