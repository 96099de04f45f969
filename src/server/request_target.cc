#include "src/server/request_target.h"

#include "src/base/strings.h"

namespace snowflake {
namespace {

using base::Cat;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> RequestTarget::Get(
    std::string_view name) const {
  std::optional<std::string_view> value;
  for (const auto& [key, val] : query) {
    if (key == name) value = val;
  }
  return value;
}

absl::StatusOr<std::string> PercentDecode(std::string_view text,
                                          bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            Cat("bad percent-encoding at position ", i, " of \"",
                text.substr(0, 64), "\""));
      }
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') {
        return absl::InvalidArgumentError("percent-encoded NUL byte");
      }
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError(
        "request target must be a path starting with '/'");
  }
  RequestTarget result;
  const size_t question = target.find('?');
  auto path = PercentDecode(target.substr(0, question), false);
  if (!path.ok()) return path.status();
  result.path = *std::move(path);
  if (question == std::string_view::npos) return result;
  for (std::string_view pair : base::Split(target.substr(question + 1), '&')) {
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto key = PercentDecode(pair.substr(0, equals), true);
    if (!key.ok()) return key.status();
    std::string value;
    if (equals != std::string_view::npos) {
      auto decoded = PercentDecode(pair.substr(equals + 1), true);
      if (!decoded.ok()) return decoded.status();
      value = *std::move(decoded);
    }
    result.query.emplace_back(*std::move(key), std::move(value));
  }
  return result;
}

}  // namespace snowflake
