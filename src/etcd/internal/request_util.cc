#include "src/etcd/internal/request_util.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"

namespace snowflake::etcd::internal {
namespace {

bool ConsumePrefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

absl::Status BadEndpoint(std::string_view endpoint, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "etcd endpoint \"", std::string(endpoint), "\": ", std::string(why),
      " (want http://host:port or https://host:port)"));
}

}  // namespace

absl::StatusOr<EndpointAddress> ParseEndpoint(std::string_view endpoint,
                                              bool tls_configured) {
  std::string_view rest = endpoint;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  EndpointAddress address;
  if (ConsumePrefix(rest, "https://")) {
    address.tls = true;
  } else if (ConsumePrefix(rest, "http://")) {
    if (tls_configured) {
      return BadEndpoint(endpoint,
                         "plain http, but TLS options are set; use https://");
    }
  } else if (rest.find("://") != std::string_view::npos) {
    return BadEndpoint(endpoint, "unknown scheme");
  } else {
    address.tls = tls_configured;
  }
  const size_t colon = rest.rfind(':');
  if (rest.empty() || colon == std::string_view::npos || colon == 0) {
    return BadEndpoint(endpoint, "no host:port");
  }
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  if (host.find('/') != std::string_view::npos ||
      port.find('/') != std::string_view::npos) {
    return BadEndpoint(endpoint, "a path is not allowed");
  }
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; });
  if (!digits || std::stoi(std::string(port)) == 0 ||
      std::stoi(std::string(port)) > 65535) {
    return BadEndpoint(endpoint, "bad port");
  }
  address.target = std::string(rest);
  address.url =
      absl::StrCat(address.tls ? "https://" : "http://", address.target);
  return address;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool ShouldFailOver(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded;
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) {
    c = c == '_'
            ? ' '
            : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

absl::Status WithTlsHint(bool tls, const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const std::string_view message(status.message().data(),
                                 status.message().size());
  auto has = [&](std::string_view part) {
    return message.find(part) != std::string_view::npos;
  };
  const bool closed = has("Socket closed") || has("Endpoint read failed") ||
                      has("Connection reset");
  std::string hint;
  if (tls && (closed || has("Ssl handshake") || has("certificate"))) {
    hint =
        " (TLS: check the CA file, and the client certificate and key if "
        "etcd requires them)";
  } else if (!tls && closed) {
    hint = " (does this endpoint want https:// and TLS options?)";
  }
  if (hint.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(), hint));
}

absl::Status CallError(std::string_view op,
                       const std::vector<AttemptError>& attempts) {
  if (attempts.empty()) {
    return absl::InternalError(
        absl::StrCat("etcd ", std::string(op), ": no endpoint was tried"));
  }
  const absl::Status& last = attempts.back().status;
  std::string urls;
  for (const AttemptError& attempt : attempts) {
    absl::StrAppend(&urls, urls.empty() ? "" : ", ", attempt.url);
  }
  std::string message = absl::StrCat("etcd ", std::string(op), " at ", urls,
                                     ": ", CodeName(last.code()), ": ");
  if (attempts.size() == 1) {
    absl::StrAppend(&message, last.message());
  } else {
    for (size_t i = 0; i < attempts.size(); ++i) {
      absl::StrAppend(&message, i == 0 ? "" : "; ", attempts[i].url, ": ",
                      CodeName(attempts[i].status.code()), ": ",
                      attempts[i].status.message());
    }
  }
  return absl::Status(last.code(), message);
}

}  // namespace snowflake::etcd::internal
