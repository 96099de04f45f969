// Pure helpers of the etcd client: endpoint URLs, key ranges and the error
// messages of failed calls. No gRPC here, so they are tested without a
// server.
#ifndef SNOWFLAKE_SRC_ETCD_INTERNAL_REQUEST_UTIL_H_
#define SNOWFLAKE_SRC_ETCD_INTERNAL_REQUEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::etcd::internal {

struct EndpointAddress {
  // As configured, minus a trailing '/', with the scheme made explicit.
  std::string url;
  // "host:port", what gRPC dials.
  std::string target;
  bool tls = false;
};

// Parses "http://host:port", "https://host:port" or "host:port" (https when
// `tls_configured`). Errors: kInvalidArgument naming the endpoint.
absl::StatusOr<EndpointAddress> ParseEndpoint(std::string_view endpoint,
                                              bool tls_configured);

// The range_end that selects every key starting with `prefix`: the prefix
// with its last byte below 0xff incremented and the rest dropped; "\0"
// (every key) when there is no such byte.
std::string PrefixEnd(std::string_view prefix);

// Whether another endpoint may answer where this one failed.
bool ShouldFailOver(absl::StatusCode code);

// A lower-case name of `code` for messages, e.g. "deadline exceeded".
std::string CodeName(absl::StatusCode code);

// `status` with a hint appended when it looks like a TLS mismatch: a
// handshake or an early close on an https endpoint (CA or client
// certificate), or an early close on an http one (a TLS-only port).
absl::Status WithTlsHint(bool tls, const absl::Status& status);

struct AttemptError {
  std::string url;
  absl::Status status;
};

// The status of a call `op` whose attempts all failed (at least one):
// the code of the last, and a message naming every endpoint tried, e.g.
// "etcd Put at http://a: not found: lease gone".
absl::Status CallError(std::string_view op,
                       const std::vector<AttemptError>& attempts);

}  // namespace snowflake::etcd::internal

#endif  // SNOWFLAKE_SRC_ETCD_INTERNAL_REQUEST_UTIL_H_
