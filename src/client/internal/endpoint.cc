#include "src/client/internal/endpoint.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "src/base/strings.h"
#include "src/lease/cluster_schema.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;

// The scheme of each transport, lower case.
std::string_view SchemeOf(ClientTransport transport) {
  return transport == ClientTransport::kGrpc ? "grpc" : "http";
}

// "host:port" or "[v6]:port" into its parts; the reason when it is not.
absl::StatusOr<Endpoint> ParseHostPort(std::string_view text) {
  Endpoint endpoint;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("an IPv6 address without its \"]\"");
    }
    endpoint.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) {
      return absl::InvalidArgumentError("no port (HOST:PORT)");
    }
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError("no port (HOST:PORT)");
    }
    endpoint.host = std::string(text.substr(0, colon));
    if (endpoint.host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          "an IPv6 address must be in brackets ([::1]:8080)");
    }
    port = text.substr(colon + 1);
  }
  if (endpoint.host.empty()) return absl::InvalidArgumentError("no host");
  for (char c : endpoint.host) {
    if (c <= ' ' || c == '/' || c == '?' || c == '#' || c == '@' || c == 0x7f) {
      return absl::InvalidArgumentError("a host with a character not allowed");
    }
  }
  int64_t number = 0;
  if (!base::ParseInt(port, number) || number < 1 || number > 65535) {
    return absl::InvalidArgumentError("the port must be a number in 1-65535");
  }
  endpoint.port = static_cast<int>(number);
  return endpoint;
}

}  // namespace

std::string Endpoint::HostPort() const {
  const bool v6 = host.find(':') != std::string::npos;
  return Cat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

std::string Endpoint::Url() const {
  return Cat(SchemeOf(transport), "://", HostPort());
}

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text) {
  const std::string quoted =
      Cat("\"", base::OneLine(text.substr(0, 200)), "\"");
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat("endpoint ", quoted,
            ": expected http://HOST:PORT or grpc://HOST:PORT"));
  }
  const std::string scheme = base::ToLower(text.substr(0, scheme_end));
  ClientTransport transport = ClientTransport::kHttp;
  if (scheme == SchemeOf(ClientTransport::kGrpc)) {
    transport = ClientTransport::kGrpc;
  } else if (scheme != SchemeOf(ClientTransport::kHttp)) {
    return absl::InvalidArgumentError(
        Cat("endpoint ", quoted, ": scheme \"", base::OneLine(scheme),
            "\" is not supported; give http://HOST:PORT (HTTP) or "
            "grpc://HOST:PORT (gRPC)"));
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(Cat("endpoint ", quoted,
                                          ": a path is not allowed (", scheme,
                                          "://HOST:PORT)"));
  }
  absl::StatusOr<Endpoint> endpoint = ParseHostPort(rest);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        Cat("endpoint ", quoted, ": ", endpoint.status().message()));
  }
  endpoint->transport = transport;
  return endpoint;
}

absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(
    const std::vector<std::string>& texts) {
  std::vector<Endpoint> endpoints;
  endpoints.reserve(texts.size());
  for (const std::string& text : texts) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text);
    if (!endpoint.ok()) return endpoint.status();
    endpoints.push_back(*std::move(endpoint));
  }
  return endpoints;
}

std::optional<Endpoint> ParseAdvertised(std::string_view text) {
  absl::StatusOr<Endpoint> endpoint = text.find("://") == std::string_view::npos
                                          ? ParseHostPort(text)
                                          : ParseEndpoint(text);
  if (!endpoint.ok()) return std::nullopt;
  return *std::move(endpoint);
}

std::vector<Endpoint> EndpointsOfClaims(const std::vector<StoredEntry>& claims,
                                        ClientTransport preferred) {
  std::vector<Endpoint> endpoints;
  for (const StoredEntry& claim : claims) {
    absl::StatusOr<cluster_schema::Holder> holder =
        cluster_schema::DecodeHolder(claim.value);
    if (!holder.ok()) continue;
    std::optional<Endpoint> chosen;  // The first usable, until a preferred.
    for (const std::string& address : holder->addresses) {
      std::optional<Endpoint> endpoint = ParseAdvertised(address);
      if (!endpoint.has_value()) continue;
      if (endpoint->transport == preferred) {
        chosen = std::move(endpoint);
        break;
      }
      if (!chosen.has_value()) chosen = std::move(endpoint);
    }
    if (chosen.has_value()) endpoints.push_back(*std::move(chosen));
  }
  std::sort(
      endpoints.begin(), endpoints.end(),
      [](const Endpoint& a, const Endpoint& b) { return a.Url() < b.Url(); });
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()),
                  endpoints.end());
  return endpoints;
}

}  // namespace snowflake::client::internal
