#include "src/cli/cluster_list.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/cli/internal/cluster_store.h"
#include "src/cli/internal/cluster_util.h"

namespace snowflake::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kCommand = "cluster list";

void PrintTable(const std::string& prefix,
                const std::vector<ClusterSummary>& clusters, Io& io) {
  if (clusters.empty()) {
    io.out << fmt::format("no cluster under {} (no node has started there)\n",
                          prefix);
    return;
  }
  io.out << fmt::format("{} cluster{} under {}\n\n", clusters.size(),
                        clusters.size() == 1 ? "" : "s", prefix);
  std::vector<std::vector<std::string>> rows = {
      {"CLUSTER", "HELD", "NODES", "HWMS", "CONFIG"}};
  for (const ClusterSummary& c : clusters) {
    rows.push_back({c.name, std::to_string(c.held), std::to_string(c.nodes),
                    std::to_string(c.hwms),
                    c.config ? *c.config : std::string("none")});
  }
  io.out << internal::FormatColumns(rows);
}

void PrintJson(const std::string& prefix,
               const std::vector<ClusterSummary>& clusters, Io& io) {
  Json list = Json::array();
  for (const ClusterSummary& c : clusters) {
    list.push_back({{"cluster", c.name},
                    {"config", c.config ? Json(*c.config) : Json(nullptr)},
                    {"held", c.held},
                    {"nodes", c.nodes},
                    {"hwms", c.hwms}});
  }
  const Json json = {{"prefix", prefix}, {"clusters", std::move(list)}};
  io.out << json.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    etcd::EtcdClient& client, const std::string& prefix) {
  // The slash keeps "/snowflake" from matching "/snowflake2/...".
  const std::string scan = prefix + "/";
  absl::StatusOr<std::vector<etcd::KeyValue>> kvs = client.GetPrefix(scan);
  if (!kvs.ok()) return kvs.status();
  std::map<std::string, ClusterSummary> by_name;
  for (const etcd::KeyValue& kv : *kvs) {
    const std::string_view rest = std::string_view(kv.key).substr(scan.size());
    const size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) continue;
    const std::string name(rest.substr(0, slash));
    const std::string_view what = rest.substr(slash + 1);
    ClusterSummary& cluster = by_name[name];
    cluster.name = name;
    if (what == "config") {
      cluster.config = kv.value;
    } else if (what.starts_with("workers/")) {
      ++cluster.held;
    } else if (what.starts_with("nodes/")) {
      ++cluster.nodes;
    } else if (what.starts_with("hwm/")) {
      ++cluster.hwms;
    }
  }
  std::vector<ClusterSummary> clusters;
  clusters.reserve(by_name.size());
  for (auto& [name, cluster] : by_name) clusters.push_back(std::move(cluster));
  return clusters;
}

absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    zookeeper::ZooKeeperClient& client, const std::string& prefix) {
  absl::StatusOr<std::vector<std::string>> names = client.Children(prefix);
  if (absl::IsNotFound(names.status())) return std::vector<ClusterSummary>();
  if (!names.ok()) return names.status();
  // How many children `path` has; 0 if it does not exist.
  auto count = [&](const std::string& path) -> absl::StatusOr<int64_t> {
    absl::StatusOr<std::optional<zookeeper::NodeStat>> stat =
        client.Exists(path);
    if (!stat.ok()) return stat.status();
    return *stat ? (*stat)->num_children : 0;
  };
  std::vector<ClusterSummary> clusters;
  for (const std::string& name : *names) {
    ClusterSummary cluster;
    cluster.name = name;
    const std::string base = absl::StrCat(prefix, "/", name);
    absl::StatusOr<zookeeper::Node> config = client.Get(base + "/config");
    if (config.ok()) {
      cluster.config = std::move(config->value);
    } else if (!absl::IsNotFound(config.status())) {
      return config.status();
    }
    for (auto [dir, out] : {std::pair{"/workers", &cluster.held},
                            std::pair{"/nodes", &cluster.nodes},
                            std::pair{"/hwm", &cluster.hwms}}) {
      absl::StatusOr<int64_t> n = count(base + dir);
      if (!n.ok()) return n.status();
      *out = *n;
    }
    clusters.push_back(std::move(cluster));
  }
  std::sort(clusters.begin(), clusters.end(),
            [](const ClusterSummary& a, const ClusterSummary& b) {
              return a.name < b.name;
            });
  return clusters;
}

int ListClustersCommand(const ClusterFlags& flags_in, Io& io) {
  ClusterFlags flags = flags_in;
  if (int code = internal::CheckClusterFlags(flags, kCommand, io);
      code != kExitOk) {
    return code;
  }
  absl::StatusOr<std::unique_ptr<internal::ClusterStore>> store =
      internal::OpenStore(flags);
  if (!store.ok()) {
    return internal::FailToOpen(io, kCommand, flags,
                                "cannot list the clusters in", store.status());
  }
  absl::StatusOr<std::vector<ClusterSummary>> clusters =
      internal::ListClusters(**store, flags.prefix);
  if (!clusters.ok()) {
    return internal::Fail(
        io, kCommand, kExitBadData,
        fmt::format("cannot list the clusters in {}: {}", (*store)->name(),
                    base::Message(clusters.status())));
  }
  if (flags.json) {
    PrintJson(flags.prefix, *clusters, io);
  } else {
    PrintTable(flags.prefix, *clusters, io);
  }
  return kExitOk;
}

}  // namespace snowflake::cli
