// Debian 12's Abseil is built for C++14, so absl::string_view is its own type
// there, not std::string_view. These helpers cross between the two at the
// few places the core hands text to Abseil.
#ifndef SNOWFLAKE_CORE_INTERNAL_ABSL_COMPAT_H_
#define SNOWFLAKE_CORE_INTERNAL_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace snowflake::internal {

inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline std::string_view StdView(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_CORE_INTERNAL_ABSL_COMPAT_H_
