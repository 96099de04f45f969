#include "src/lease/etcd/etcd_schema.h"

#include <charconv>

#include "nlohmann/json.hpp"

namespace snowflake::etcd_schema {
namespace {

absl::StatusOr<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return absl::DataLossError("not a decimal integer: \"" + text + "\"");
  }
  return value;
}

}  // namespace

std::string ClusterPrefix(const std::string& prefix,
                          const std::string& cluster) {
  return prefix + "/" + cluster;
}
std::string ConfigKey(const std::string& prefix, const std::string& cluster) {
  return ClusterPrefix(prefix, cluster) + "/config";
}
std::string WorkersPrefix(const std::string& prefix,
                          const std::string& cluster) {
  return ClusterPrefix(prefix, cluster) + "/workers/";
}
std::string WorkerKey(const std::string& prefix, const std::string& cluster,
                      int64_t worker_id) {
  return WorkersPrefix(prefix, cluster) + std::to_string(worker_id);
}
std::string HwmPrefix(const std::string& prefix, const std::string& cluster) {
  return ClusterPrefix(prefix, cluster) + "/hwm/";
}
std::string HwmKey(const std::string& prefix, const std::string& cluster,
                   int64_t worker_id) {
  return HwmPrefix(prefix, cluster) + std::to_string(worker_id);
}
std::string NodesPrefix(const std::string& prefix, const std::string& cluster) {
  return ClusterPrefix(prefix, cluster) + "/nodes/";
}
std::string NodeKey(const std::string& prefix, const std::string& cluster,
                    const std::string& node) {
  return NodesPrefix(prefix, cluster) + node;
}

std::optional<int64_t> IdOfKey(const std::string& key) {
  const size_t slash = key.rfind('/');
  const std::string tail =
      slash == std::string::npos ? key : key.substr(slash + 1);
  absl::StatusOr<int64_t> id = ParseInt(tail);
  if (!id.ok() || *id < 0) return std::nullopt;
  return *id;
}

std::string EncodeHolder(const Holder& holder) {
  nlohmann::json json = {
      {"node", holder.node},
      {"worker_id", holder.worker_id},
      {"addresses", holder.addresses},
      {"region", holder.region},
      {"start_ms", holder.start_unix_millis},
      // A string: lease IDs use all 64 bits, beyond JavaScript's numbers.
      {"lease", std::to_string(holder.lease)},
  };
  return json.dump();
}

absl::StatusOr<Holder> DecodeHolder(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  Holder holder;
  if (json.is_object()) {
    try {
      holder.node = json.value("node", "");
      holder.worker_id = json.value("worker_id", int64_t{-1});
      holder.addresses = json.value("addresses", std::vector<std::string>{});
      holder.region = json.value("region", "");
      holder.start_unix_millis = json.value("start_ms", int64_t{0});
      absl::StatusOr<int64_t> lease =
          ParseInt(json.value("lease", std::string("0")));
      if (lease.ok()) {
        holder.lease = *lease;
        return holder;
      }
    } catch (const nlohmann::json::exception&) {
      // Wrong types: reported below.
    }
  }
  return absl::DataLossError("not a worker holder entry: " + text);
}

std::string EncodeHwm(int64_t unix_millis) {
  return std::to_string(unix_millis);
}

absl::StatusOr<int64_t> DecodeHwm(const std::string& text) {
  absl::StatusOr<int64_t> value = ParseInt(text);
  if (!value.ok() || *value < 0) {
    return absl::DataLossError("high-water mark is not Unix ms: \"" + text +
                               "\"");
  }
  return *value;
}

}  // namespace snowflake::etcd_schema
