// A node's address as the client uses it, with the protocol to speak to it:
// parsed from what users write ("http://host:port", "grpc://host:port") and
// from what nodes advertise in their claims ("host:port" for HTTP, or a
// URL). The one parser of endpoints.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/client.h"
#include "src/client/coordinator_store.h"

namespace snowflake::client::internal {

struct Endpoint {
  std::string host;  // A name, an IPv4 address, or an IPv6 one (no brackets).
  int port = 0;      // 1 to 65535.
  ClientTransport transport = ClientTransport::kHttp;

  // "http://host:port" or "grpc://host:port" ("http://[::1]:8080" for
  // IPv6): the node's name in messages and in Client::Endpoints().
  std::string Url() const;
  // "host:port" ("[::1]:8080"): what a gRPC channel dials, and the Host
  // header of HTTP.
  std::string HostPort() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses "http://host:port" (HTTP) or "grpc://host:port" (gRPC, plaintext),
// the scheme in any case, with an optional trailing "/". Errors:
// kInvalidArgument quoting `text` and saying what is wrong (no scheme, a
// scheme other than http or grpc, no host, a port that is missing or not in
// 1 to 65535, a path).
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text);

// Each of `texts` parsed; the first error, if any.
absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(
    const std::vector<std::string>& texts);

// An advertised address: "host:port" (the nodes' --advertise form, served
// over HTTP), "http://host:port" or "grpc://host:port" (what a node with
// --grpc-listen adds); nullopt for anything else (another scheme, or a port
// 0 left by --listen HOST:0).
std::optional<Endpoint> ParseAdvertised(std::string_view text);

// The nodes the workers/ entries of a cluster name (cluster_schema::Holder),
// one endpoint each: the claim's first usable address of the `preferred`
// transport, else its first usable address of the other one (a node that
// serves no gRPC, or one whose claim predates gRPC addresses, is still
// asked, over HTTP). Without repeats (a node holding several worker IDs),
// sorted by URL. Entries that do not parse, or name no usable address, are
// skipped.
std::vector<Endpoint> EndpointsOfClaims(const std::vector<StoredEntry>& claims,
                                        ClientTransport preferred);

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_ENDPOINT_H_
