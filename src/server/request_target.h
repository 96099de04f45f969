// Parsing of an HTTP request target ("/v1/ids?count=3&format=text"): the
// path and query parameters, percent-decoded. Pure and thread-safe.
#ifndef SNOWFLAKE_SRC_SERVER_REQUEST_TARGET_H_
#define SNOWFLAKE_SRC_SERVER_REQUEST_TARGET_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace snowflake {

struct RequestTarget {
  std::string path;  // Decoded; starts with '/'.
  std::vector<std::pair<std::string, std::string>> query;  // Decoded.

  // The value of the last parameter named `name`, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
};

// Decodes %XX escapes (and '+' as a space if `plus_is_space`). Errors:
// kInvalidArgument for a truncated or non-hex escape or a decoded NUL.
absl::StatusOr<std::string> PercentDecode(std::string_view text,
                                          bool plus_is_space);

// Errors: kInvalidArgument if the target is not in origin form (does not
// start with '/') or has a bad escape.
absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target);

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_REQUEST_TARGET_H_
