#include "src/cli/cluster_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snowflake/layout.h"
#include "src/base/strings.h"
#include "src/cli/cluster_list.h"
#include "src/cli/fence_restore.h"
#include "src/cli/internal/cluster_store.h"
#include "src/cli/internal/cluster_util.h"
#include "src/cli/internal/coordinator_flags.h"
#include "src/client/coordinator_store.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/cluster_view.h"
#include "src/lease/region_map.h"

namespace snowflake::cli {
namespace {

using Json = nlohmann::ordered_json;
using base::Message;
using internal::ClusterStore;
using internal::WorkerBitsOfConfig;

constexpr std::string_view kCommand = "cluster";

int Fail(Io& io, int exit_code, std::string_view message) {
  return internal::Fail(io, kCommand, exit_code, message);
}

// A cluster's snapshot (src/lease/cluster_view.h, the one reader the
// node's status page uses too) and the range whose free IDs are counted.
struct Snapshot {
  ClusterSnapshot cluster;
  WorkerRange range;
  bool range_from_config = false;
  int64_t held_in_range = 0;
};

absl::StatusOr<Snapshot> Read(const ClusterFlags& flags, ClusterStore& store) {
  absl::StatusOr<ClusterSnapshot> cluster =
      client::ReadCluster(store, flags.prefix, flags.cluster);
  if (!cluster.ok()) return cluster.status();
  Snapshot snapshot;
  snapshot.cluster = *std::move(cluster);
  if (!flags.worker_range.empty()) {
    snapshot.range = *ParseWorkerRange(flags.worker_range);
  } else {
    std::optional<int> bits;
    if (snapshot.cluster.config) {
      bits = WorkerBitsOfConfig(*snapshot.cluster.config);
    }
    snapshot.range_from_config = bits.has_value();
    snapshot.range = WorkerRange{
        0, (int64_t{1} << bits.value_or(Layout().worker_bits())) - 1};
  }
  snapshot.held_in_range = snapshot.cluster.HeldIn(snapshot.range);
  return snapshot;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) {
    if (!joined.empty()) joined += ",";
    joined += part;
  }
  return joined;
}

Json ConfigJson(const std::optional<std::string>& config) {
  if (!config) return nullptr;
  Json parsed = Json::parse(*config, nullptr, false);
  return parsed.is_discarded() ? Json(*config) : parsed;
}

void PrintJson(const ClusterFlags& flags, const Snapshot& snapshot,
               int64_t now_millis, Io& io) {
  Json json;
  json["cluster"] = flags.cluster;
  json["prefix"] = flags.prefix;
  json["config"] = ConfigJson(snapshot.cluster.config);
  json["range"] = {{"first", snapshot.range.first},
                   {"last", snapshot.range.last},
                   {"held", snapshot.held_in_range},
                   {"free", snapshot.range.size() - snapshot.held_in_range}};
  Json holders = Json::array();
  Json free_hwms = Json::array();
  for (const auto& [id, row] : snapshot.cluster.workers) {
    Json hwm = nullptr;
    Json entry;
    entry["worker_id"] = id;
    if (row.hwm_millis) {
      entry["hwm_ms"] = *row.hwm_millis;
      entry["hwm"] = FormatRfc3339Millis(*row.hwm_millis);
      entry["hwm_ahead_ms"] = *row.hwm_millis - now_millis;
    } else {
      entry["hwm_ms"] = nullptr;
      entry["hwm"] = nullptr;
      entry["hwm_ahead_ms"] = nullptr;
    }
    if (!row.holder) {
      free_hwms.push_back(entry);
      continue;
    }
    const cluster_schema::Holder& holder = *row.holder;
    entry["in_range"] = snapshot.range.Contains(id);
    entry["node"] = holder.node;
    entry["addresses"] = holder.addresses;
    entry["region"] = holder.region;
    entry["start_ms"] = holder.start_unix_millis;
    entry["start"] = holder.start_unix_millis > 0
                         ? Json(FormatRfc3339Millis(holder.start_unix_millis))
                         : Json(nullptr);
    // A string: lease IDs use all 64 bits, beyond JavaScript's numbers.
    // ZooKeeper: "session 0x<hex>", the session owning the ephemeral znode.
    entry["lease"] = row.lease;
    entry["lease_left_s"] =
        row.lease_left_seconds ? Json(*row.lease_left_seconds) : Json(nullptr);
    if (!row.lease_error.empty()) entry["lease_error"] = row.lease_error;
    if (!row.bad_entry.empty()) entry["bad_entry"] = row.bad_entry;
    holders.push_back(std::move(entry));
  }
  json["holders"] = std::move(holders);
  json["free_with_hwm"] = std::move(free_hwms);
  io.out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
         << '\n';
}

void PrintTable(const ClusterFlags& flags, const Snapshot& snapshot, Io& io) {
  io.out << fmt::format("cluster  {} (prefix {})\n", flags.cluster,
                        flags.prefix);
  io.out << fmt::format("config   {}\n", snapshot.cluster.config
                                             ? *snapshot.cluster.config
                                             : std::string("none (no node has "
                                                           "started yet)"));
  io.out << fmt::format(
      "range    {}-{}{}: {} held, {} free\n", snapshot.range.first,
      snapshot.range.last,
      flags.worker_range.empty()
          ? (snapshot.range_from_config ? " (the layout's)"
                                        : " (the default layout's)")
          : "",
      snapshot.held_in_range, snapshot.range.size() - snapshot.held_in_range);

  std::vector<std::vector<std::string>> rows = {
      {"WORKER", "NODE", "ADDRESSES", "REGION", "HWM_MS", "HWM", "LEASE_LEFT"}};
  for (const auto& [id, row] : snapshot.cluster.workers) {
    if (!row.holder) continue;
    const cluster_schema::Holder& holder = *row.holder;
    std::string lease_left = row.lease_left_seconds
                                 ? fmt::format("{}s", *row.lease_left_seconds)
                             : row.lease_error.empty() ? "-"
                                                       : row.lease_error;
    rows.push_back({std::to_string(id),
                    row.bad_entry.empty() ? holder.node : "(unreadable entry)",
                    holder.addresses.empty() ? "-" : Join(holder.addresses),
                    holder.region.empty() ? "-" : holder.region,
                    row.hwm_millis ? std::to_string(*row.hwm_millis) : "-",
                    row.hwm_millis ? FormatRfc3339Millis(*row.hwm_millis) : "-",
                    std::move(lease_left)});
  }
  if (rows.size() == 1) {
    io.out << "no worker ID is held\n";
    return;
  }
  io.out << '\n' << internal::FormatColumns(rows);
}

// The holders as Prometheus file_sd target groups, one per holder at its
// first advertised address (a node advertising several would otherwise be
// scraped, and counted, once per address). No worker_id label: a node that
// acquires another ID would become another target (and series); the
// node's own snowflake_worker{worker_id} says which it holds.
std::vector<Json> TargetGroups(const ClusterFlags& flags,
                               const Snapshot& snapshot) {
  std::vector<Json> groups;
  for (const auto& [id, row] : snapshot.cluster.workers) {
    if (!row.holder || !row.bad_entry.empty() ||
        row.holder->addresses.empty()) {
      continue;
    }
    const cluster_schema::Holder& holder = *row.holder;
    groups.push_back({{"targets", {holder.addresses.front()}},
                      {"labels",
                       {{"cluster", flags.cluster},
                        {"region", holder.region},
                        {"node", holder.node}}}});
  }
  return groups;
}

// Target groups seen in earlier rounds of --refresh, by their JSON, with
// when each was last seen: a holder that left is kept as a target for
// --keep-departed seconds, so that a node that died is scraped, found down
// (`up == 0`) and alerted on, instead of vanishing from the targets once its
// claim expires.
using SeenTargets = std::map<std::string, std::pair<Json, int64_t>>;

void PrintPrometheusSd(const std::vector<Json>& current, SeenTargets& seen,
                       int64_t now_micros, int64_t keep_micros,
                       std::ostream& out) {
  std::set<std::string> addresses;  // Held now.
  for (const Json& group : current) {
    seen[group.dump()] = {group, now_micros};
    addresses.insert(group["targets"][0].get<std::string>());
  }
  Json groups = Json::array();
  for (auto it = seen.begin(); it != seen.end();) {
    const bool departed = it->second.second != now_micros;
    // Gone too long, or its address is held again (the node restarted,
    // perhaps under another name): one target per address, never two.
    if (departed && (now_micros - it->second.second > keep_micros ||
                     addresses.contains(
                         it->second.first["targets"][0].get<std::string>()))) {
      it = seen.erase(it);
      continue;
    }
    groups.push_back(it->second.first);
    ++it;
  }
  out << groups.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
      << '\n';
}

// Replaces `path` with `content`: a temporary file beside it, renamed over
// it, so that a reader (Prometheus) never sees a partial file.
absl::Status WriteAtomically(const std::string& path,
                             const std::string& content) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream file(temp, std::ios::trunc);
    file << content;
    file.flush();
    if (!file) {
      return absl::UnavailableError(
          fmt::format("cannot write {}: {}", temp, std::strerror(errno)));
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    return absl::UnavailableError(
        fmt::format("cannot rename {} to {}: {}", temp, path, error.message()));
  }
  return absl::OkStatus();
}

// For a cluster with no keys at all (most likely a wrong --cluster): the
// names that do exist.
void PrintOtherClusters(const ClusterFlags& flags, ClusterStore& store,
                        Io& io) {
  absl::StatusOr<std::vector<ClusterSummary>> clusters =
      internal::ListClusters(store, flags.prefix);
  if (!clusters.ok()) return;
  std::vector<std::string> names;
  for (const ClusterSummary& c : *clusters) names.push_back(c.name);
  io.out << fmt::format(
      "\nno key of cluster \"{}\" under {}; clusters there: {} (snowflake "
      "cluster list)\n",
      flags.cluster, flags.prefix, names.empty() ? "none" : Join(names));
}

}  // namespace

int Cluster(const ClusterFlags& flags_in, Clock& clock, Io& io) {
  ClusterFlags flags = flags_in;
  if (int code = internal::CheckClusterFlags(flags, kCommand, io);
      code != kExitOk) {
    return code;
  }
  if (flags.json) flags.format = "json";
  if (flags.format != "table" && flags.format != "json" &&
      flags.format != "prometheus-sd") {
    return Fail(io, kExitUsage,
                fmt::format("--format {} is not a format: use table, json or "
                            "prometheus-sd",
                            flags.format));
  }
  if (flags.refresh_seconds < 0 ||
      (flags.refresh_seconds > 0 && flags.output.empty())) {
    return Fail(io, kExitUsage,
                "--refresh S needs S > 0 and --output FILE (it rewrites the "
                "file every S seconds until stopped)");
  }
  if (flags.keep_departed_seconds < 0 ||
      (flags.keep_departed_seconds > 0 &&
       (flags.refresh_seconds == 0 || flags.format != "prometheus-sd"))) {
    return Fail(io, kExitUsage,
                "--keep-departed S needs S >= 0, --format prometheus-sd and "
                "--refresh (it remembers targets between rounds)");
  }
  absl::StatusOr<std::unique_ptr<ClusterStore>> store =
      internal::OpenStore(flags);
  if (!store.ok()) {
    return internal::FailToOpen(io, kCommand, flags,
                                "cannot read the cluster from", store.status());
  }
  SeenTargets seen;
  for (;;) {
    absl::StatusOr<Snapshot> snapshot = Read(flags, **store);
    std::ostringstream text;
    Io to_text{io.in, text, io.err};
    int code = kExitOk;
    if (!snapshot.ok()) {
      code = Fail(io, kExitBadData,
                  fmt::format("cannot read the cluster from {}: {}",
                              (*store)->name(), Message(snapshot.status())));
    } else if (flags.format == "json") {
      PrintJson(flags, *snapshot, clock.NowMicros() / 1000, to_text);
    } else if (flags.format == "prometheus-sd") {
      PrintPrometheusSd(TargetGroups(flags, *snapshot), seen, clock.NowMicros(),
                        flags.keep_departed_seconds * 1'000'000, text);
    } else {
      PrintTable(flags, *snapshot, to_text);
      if (!snapshot->cluster.config && snapshot->cluster.workers.empty()) {
        PrintOtherClusters(flags, **store, to_text);
      }
    }
    if (code == kExitOk && flags.output.empty()) {
      io.out << text.str();
    } else if (code == kExitOk) {
      if (absl::Status written = WriteAtomically(flags.output, text.str());
          !written.ok()) {
        code = Fail(io, kExitBadData, Message(written));
      }
    }
    // With --refresh a failed round keeps the last file and tries again.
    if (flags.refresh_seconds == 0) return code;
    std::this_thread::sleep_for(std::chrono::seconds(flags.refresh_seconds));
  }
}

CLI::App* ClusterCommand::Add(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "cluster",
      "Show a cluster's state in etcd or ZooKeeper: layout, worker-ID "
      "holders, their high-water marks and lease time left (etcd), free "
      "IDs; `cluster list` lists the clusters");
  cmd->footer(
      "Example:\n"
      "  snowflake cluster list --etcd http://127.0.0.1:2379\n"
      "  snowflake cluster --etcd http://127.0.0.1:2379 --cluster prod\n"
      "  snowflake cluster --etcd https://e1:2379,https://e2:2379 "
      "--ca ca.pem --cert client.pem --key client-key.pem --json\n"
      "  snowflake cluster --zookeeper zk1:2181,zk2:2181/apps --cluster prod "
      "--zookeeper-auth svc:secret\n"
      "  snowflake cluster --etcd http://127.0.0.1:2379 --cluster prod "
      "--format prometheus-sd --output targets/snowflake.json --refresh 10 "
      "--keep-departed 600\n\n"
      "With --zookeeper, LEASE_LEFT is \"-\": a ZooKeeper session's time "
      "left is not visible to other clients; --json's \"lease\" names the "
      "session that owns the worker's ephemeral znode.");
  internal::AddCoordinatorFlags(*cmd, flags_);
  cmd->add_option("--worker-range", flags_.worker_range,
                  "Count the free IDs of this range (default: every worker "
                  "ID of the cluster's layout)")
      ->type_name("A-B");
  cmd->add_flag("--json", flags_.json, "Print one JSON object (--format json)");
  cmd->add_option("--format", flags_.format,
                  "table, json, or prometheus-sd: the holders as Prometheus "
                  "file_sd targets (first advertised address; labels "
                  "cluster, region, node)")
      ->type_name("F")
      ->capture_default_str();
  cmd->add_option("--output,-o", flags_.output,
                  "Write to FILE (replaced atomically) instead of standard "
                  "output")
      ->type_name("FILE");
  cmd->add_option("--refresh", flags_.refresh_seconds,
                  "With --output: write again every S seconds until stopped "
                  "(a failed read keeps the last file)")
      ->type_name("S");
  cmd->add_option("--keep-departed", flags_.keep_departed_seconds,
                  "With --format prometheus-sd --refresh: keep a holder that "
                  "left as a target this long, so a node that died is "
                  "scraped as down (up == 0) rather than dropped")
      ->type_name("S")
      ->capture_default_str();
  internal::AddConnectionFlags(*cmd, flags_);

  list_ = cmd->add_subcommand(
      "list",
      "List every cluster under the prefix: its stored config, and how many "
      "worker IDs are held, nodes published and high-water marks stored");
  list_->fallthrough();
  list_->footer(
      "Takes the flags of snowflake cluster (--etcd or --zookeeper, "
      "--prefix, --json, TLS and authentication) before or after list.\n\n"
      "Example:\n"
      "  snowflake cluster list --etcd http://127.0.0.1:2379\n"
      "  snowflake cluster list --zookeeper 127.0.0.1:2181");

  fence_restore_ = cmd->add_subcommand(
      "fence-restore",
      "After etcd or ZooKeeper was restored from an older snapshot: raise "
      "the stored "
      "high-water mark of every worker ID of the cluster (also IDs that have "
      "none) to at least now + outage budget + clock skew, so that no ID "
      "issued before the restore is issued again");
  // The connection flags above work after "fence-restore" too.
  fence_restore_->fallthrough();
  fence_restore_->footer(
      "Takes the flags of snowflake cluster (--etcd or --zookeeper, "
      "--cluster, --prefix, "
      "--worker-range, --json, TLS and authentication) before or after "
      "fence-restore. Run it after the restore, before nodes start again "
      "(docs/operations.md). Each mark is raised by compare-and-set, never "
      "lowered; running it twice is harmless.\n\n"
      "Example:\n"
      "  snowflake cluster fence-restore --etcd http://127.0.0.1:2379 "
      "--cluster prod --dry-run");
  fence_restore_
      ->add_option("--outage-budget", fence_flags_.outage_budget_seconds,
                   "The nodes' worker.outage_budget_s, in seconds")
      ->type_name("S")
      ->capture_default_str();
  fence_restore_
      ->add_option("--max-clock-skew-ms", fence_flags_.max_clock_skew_millis,
                   "The nodes' clock.max_skew_ms")
      ->type_name("MS")
      ->capture_default_str();
  fence_restore_->add_flag("--dry-run", fence_flags_.dry_run,
                           "Print what would be written; write nothing");
  return cmd;
}

int ClusterCommand::Run(Clock& clock, Io& io) {
  if (list_ != nullptr && list_->parsed()) {
    return ListClustersCommand(flags_, io);
  }
  if (fence_restore_ != nullptr && fence_restore_->parsed()) {
    return FenceRestore(flags_, fence_flags_, clock, io);
  }
  return Cluster(flags_, clock, io);
}

}  // namespace snowflake::cli
