#include "src/lease/cluster_schema.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/base/strings.h"

namespace snowflake::cluster_schema {
namespace {

constexpr char kRegionsField[] = "regions";

bool ValidFieldName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// A number stored by snowflaked; anything else is damage.
absl::StatusOr<int64_t> ParseStored(const std::string& text) {
  int64_t value = 0;
  if (!base::ParseInt(text, value)) {
    return absl::DataLossError("not a decimal integer: " + base::Quote(text));
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
  absl::StatusOr<int64_t> id = ParseStored(tail);
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
  // Names and regions come from the operator: a byte that is not UTF-8 is
  // replaced rather than thrown on.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
          ParseStored(json.value("lease", std::string("0")));
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
  absl::StatusOr<int64_t> value = ParseStored(text);
  if (!value.ok() || *value < 0) {
    return absl::DataLossError("high-water mark is not Unix ms: \"" + text +
                               "\"");
  }
  return *value;
}

std::string EncodeClusterConfig(const Layout& layout,
                                const RegionMap& regions) {
  std::string text = layout.ToString();
  if (!regions.empty()) {
    text += "; ";
    text += kRegionsField;
    text += "=" + regions.ToString();
  }
  return text;
}

absl::StatusOr<ClusterConfig> DecodeClusterConfig(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return absl::DataLossError("cluster config \"" + text + "\": " + why);
  };
  ClusterConfig config;
  size_t start = text.find(';');
  config.layout = std::string(base::Trim(text.substr(0, start)));
  if (config.layout.empty()) return bad("no layout");
  bool have_regions = false;
  while (start != std::string::npos) {
    const size_t end = text.find(';', start + 1);
    const std::string field =
        std::string(base::Trim(text.substr(start + 1, end - (start + 1))));
    start = end;
    const size_t equals = field.find('=');
    const std::string name = std::string(base::Trim(field.substr(0, equals)));
    if (equals == std::string::npos || !ValidFieldName(name)) {
      return bad("field \"" + field + "\" is not NAME=VALUE");
    }
    const std::string value = std::string(base::Trim(field.substr(equals + 1)));
    if (name != kRegionsField) {
      return absl::FailedPreconditionError(
          absl::StrCat("cluster config \"", text, "\": unknown field \"", name,
                       "\" (written by a newer version of snowflaked?)"));
    }
    if (have_regions) return bad("field \"regions\" appears twice");
    have_regions = true;
    absl::StatusOr<RegionMap> regions = RegionMap::Parse(value);
    if (!regions.ok()) {
      return bad(std::string(regions.status().message()));
    }
    config.regions = regions->ToString();
  }
  return config;
}

}  // namespace snowflake::cluster_schema
