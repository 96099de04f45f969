#include "src/cli/internal/cluster_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>

#include "src/base/strings.h"
#include "src/lease/region_map.h"

namespace snowflake::cli::internal {
int Fail(Io& io, std::string_view command, int exit_code,
         std::string_view message) {
  io.err << "snowflake: " << command << ": " << base::OneLine(message) << '\n';
  return exit_code;
}

int CheckClusterFlags(ClusterFlags& flags, std::string_view command, Io& io) {
  while (flags.prefix.size() > 1 && flags.prefix.back() == '/') {
    flags.prefix.pop_back();
  }
  const bool zookeeper = !flags.zookeeper_hosts.empty();
  if (zookeeper && !flags.endpoints.empty()) {
    return Fail(io, command, kExitUsage,
                "--etcd and --zookeeper: give only one coordinator");
  }
  if (!zookeeper && flags.endpoints.empty()) {
    return Fail(io, command, kExitUsage,
                "give --etcd URL[,URL...] or --zookeeper HOST:PORT[,...]");
  }
  if (zookeeper) {
    if (!flags.ca_file.empty() || !flags.cert_file.empty() ||
        !flags.key_file.empty() || !flags.user.empty() ||
        !flags.password.empty()) {
      return Fail(io, command, kExitUsage,
                  "--ca, --cert, --key, --user and --password are etcd's; "
                  "with --zookeeper use --zookeeper-auth USER:PASSWORD");
    }
    const size_t colon = flags.zookeeper_auth.find(':');
    if (!flags.zookeeper_auth.empty() &&
        (colon == std::string::npos || colon == 0)) {
      return Fail(io, command, kExitUsage,
                  "--zookeeper-auth: must be USER:PASSWORD with a non-empty "
                  "user");
    }
  } else if (!flags.zookeeper_auth.empty()) {
    return Fail(io, command, kExitUsage,
                "--zookeeper-auth: only with --zookeeper");
  }
  if (flags.cluster.empty() || flags.cluster.find('/') != std::string::npos) {
    return Fail(io, command, kExitUsage,
                "--cluster: a non-empty name without \"/\" is needed, got \"" +
                    flags.cluster + "\"");
  }
  if (flags.prefix.empty() || flags.prefix.front() != '/') {
    return Fail(
        io, command, kExitUsage,
        "--prefix: must start with \"/\", got \"" + flags.prefix + "\"");
  }
  if (!flags.worker_range.empty() &&
      !ParseWorkerRange(flags.worker_range).ok()) {
    return Fail(io, command, kExitUsage,
                "--worker-range: expected A-B with 0 <= A <= B, got \"" +
                    flags.worker_range + "\"");
  }
  if (flags.timeout_millis <= 0) {
    return Fail(io, command, kExitUsage, "--timeout-ms: must be positive");
  }
  return kExitOk;
}

std::string_view CoordinatorName(const ClusterFlags& flags) {
  return flags.zookeeper_hosts.empty() ? "etcd" : "ZooKeeper";
}

int FailToOpen(Io& io, std::string_view command, const ClusterFlags& flags,
               std::string_view doing, const absl::Status& status) {
  if (absl::IsInvalidArgument(status)) {
    return Fail(io, command, kExitUsage, base::Message(status));
  }
  return Fail(io, command, kExitBadData,
              fmt::format("{} {}: {}", doing, CoordinatorName(flags),
                          base::Message(status)));
}

std::optional<int> WorkerBitsOfConfig(const std::string& value) {
  using Json = nlohmann::ordered_json;
  const Json json = Json::parse(value, nullptr, false);
  std::string text = value;
  if (json.is_object()) {
    const auto bits = json.find("worker_bits");
    if (bits != json.end() && bits->is_number_integer()) {
      return bits->get<int>();
    }
    const auto layout = json.find("layout");
    if (layout == json.end()) return std::nullopt;
    if (layout->is_object()) return WorkerBitsOfConfig(layout->dump());
    if (!layout->is_string()) return std::nullopt;
    text = layout->get<std::string>();
  }
  const size_t first = text.find('/');
  if (first == std::string::npos) return std::nullopt;
  const size_t second = text.find('/', first + 1);
  if (second == std::string::npos) return std::nullopt;
  int64_t bits = 0;
  if (!base::ParseInt(
          std::string_view(text).substr(first + 1, second - first - 1), bits) ||
      bits < 0 || bits > 62) {
    return std::nullopt;
  }
  return static_cast<int>(bits);
}

std::string FormatColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += i + 1 == row.size() ? row[i]
                                 : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace snowflake::cli::internal
