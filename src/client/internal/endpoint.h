// A node's address as the client uses it, parsed from what users write
// ("http://host:port") and from what nodes advertise in their claims
// ("host:port", or a URL).
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/client/coordinator_store.h"

namespace snowflake::client::internal {

struct Endpoint {
  std::string host;  // A name, an IPv4 address, or an IPv6 one (no brackets).
  int port = 0;      // 1 to 65535.

  // "http://host:port" ("http://[::1]:8080" for IPv6): the node's name in
  // messages and in Client::Endpoints().
  std::string Url() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses "http://host:port", with an optional trailing "/". Errors:
// kInvalidArgument quoting `text` and saying what is wrong (no scheme, a
// scheme other than http, no host, a port that is missing or not in 1 to
// 65535, a path).
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text);

// Each of `texts` parsed; the first error, if any.
absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(
    const std::vector<std::string>& texts);

// An advertised address: "host:port" (the nodes' --advertise form, served
// over HTTP) or "http://host:port"; nullopt for anything else (another
// scheme, such as a gRPC port, or a port 0 left by --listen HOST:0).
std::optional<Endpoint> ParseAdvertised(std::string_view text);

// The nodes the workers/ entries of a cluster name: each entry's first usable
// advertised address (cluster_schema::Holder), without repeats (a node
// holding several worker IDs), sorted by URL. Entries that do not parse
// are skipped.
std::vector<Endpoint> EndpointsOfClaims(const std::vector<StoredEntry>& claims);

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_
