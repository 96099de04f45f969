#include "src/cli/fence_restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "snowflake/layout.h"
#include "src/base/strings.h"
#include "src/cli/internal/cluster_store.h"
#include "src/cli/internal/cluster_util.h"
#include "src/lease/cluster_schema.h"

namespace snowflake::cli {
namespace {

using base::Message;

constexpr std::string_view kCommand = "cluster fence-restore";
constexpr int64_t kMaxOutageBudgetSeconds = 86'400;

int Fail(Io& io, int exit_code, std::string_view message) {
  return internal::Fail(io, kCommand, exit_code, message);
}

enum class Action { kRaise, kCreate, kReplace, kKeep };

// What to do with one mark, given what the coordinator holds (null:
// absent).
Action Decide(const std::string* value, int64_t target) {
  if (value == nullptr) return Action::kCreate;
  absl::StatusOr<int64_t> mark = cluster_schema::DecodeHwm(*value);
  if (!mark.ok()) return Action::kReplace;
  return *mark >= target ? Action::kKeep : Action::kRaise;
}

Action Decide(const std::optional<etcd::KeyValue>& kv, int64_t target) {
  return Decide(kv ? &kv->value : nullptr, target);
}

Action Decide(const std::optional<zookeeper::Node>& node, int64_t target) {
  return Decide(node ? &node->value : nullptr, target);
}

void Count(Action action, FenceResult& result) {
  switch (action) {
    case Action::kRaise:
      ++result.raised;
      break;
    case Action::kCreate:
      ++result.created;
      break;
    case Action::kReplace:
      ++result.replaced;
      break;
    case Action::kKeep:
      ++result.unchanged;
      break;
  }
}

// The mark's znode; nullopt if absent.
absl::StatusOr<std::optional<zookeeper::Node>> ReadNode(
    zookeeper::ZooKeeperClient& client, const std::string& path) {
  absl::StatusOr<zookeeper::Node> node = client.Get(path);
  if (absl::IsNotFound(node.status())) return std::nullopt;
  if (!node.ok()) return node.status();
  return std::make_optional(*std::move(node));
}

// ZooKeeper's RaiseBatch: one multi of compare-and-sets and creates.
absl::Status RaiseZooKeeperBatch(
    zookeeper::ZooKeeperClient& client, const FencePlan& plan,
    std::map<int64_t, std::optional<zookeeper::Node>> batch,
    const std::function<void()>& before_txn, FenceResult& result) {
  const std::string target = cluster_schema::EncodeHwm(plan.target_millis);
  for (int attempt = 0; attempt < kFenceMaxAttempts; ++attempt) {
    std::vector<zookeeper::Op> ops;
    std::vector<std::pair<int64_t, Action>> writes;
    for (auto it = batch.begin(); it != batch.end();) {
      const Action action = Decide(it->second, plan.target_millis);
      if (action == Action::kKeep) {
        Count(action, result);
        it = batch.erase(it);
        continue;
      }
      std::string path =
          cluster_schema::HwmKey(plan.prefix, plan.cluster, it->first);
      ops.push_back(it->second ? zookeeper::Op::Set(std::move(path), target,
                                                    it->second->stat.version)
                               : zookeeper::Op::Create(
                                     std::move(path), target,
                                     zookeeper::CreateMode::kPersistent));
      writes.emplace_back(it->first, action);
      ++it;
    }
    if (writes.empty()) return absl::OkStatus();
    if (!plan.dry_run) {
      if (before_txn) before_txn();
      absl::StatusOr<zookeeper::MultiResult> done = client.Multi(ops);
      if (!done.ok()) return done.status();
      ++result.transactions;
      if (done->failed_op >= 0) {
        const absl::Status& error = done->error;
        // Another writer created, changed or deleted a mark: read them all
        // again and decide anew. Anything else no retry fixes.
        if (!zookeeper::IsBadVersion(error) && !absl::IsNotFound(error) &&
            !absl::IsAlreadyExists(error)) {
          return error;
        }
        ++result.conflicts;
        for (const auto& [id, action] : writes) {
          absl::StatusOr<std::optional<zookeeper::Node>> node = ReadNode(
              client, cluster_schema::HwmKey(plan.prefix, plan.cluster, id));
          if (!node.ok()) return node.status();
          batch[id] = *std::move(node);
        }
        continue;
      }
    }
    for (const auto& [id, action] : writes) Count(action, result);
    return absl::OkStatus();
  }
  return absl::AbortedError(
      "the high-water marks of worker IDs " +
      std::to_string(batch.begin()->first) + " to " +
      std::to_string(batch.rbegin()->first) + " kept changing (" +
      std::to_string(kFenceMaxAttempts) + " attempts); run the command again");
}

// "after fencing N worker IDs ..., at worker ID F: <why>".
absl::Status AfterFencing(const absl::Status& status, const FenceResult& result,
                          int64_t first) {
  return absl::Status(status.code(),
                      "after fencing " + std::to_string(result.fenced()) +
                          " worker IDs (" + std::to_string(result.unchanged) +
                          " were already fenced), at worker ID " +
                          std::to_string(first) + ": " + Message(status));
}

// One batch of at most kFenceTxnOps IDs, retried until it commits.
absl::Status RaiseBatch(etcd::EtcdClient& client, const FencePlan& plan,
                        std::map<int64_t, std::optional<etcd::KeyValue>> batch,
                        const std::function<void()>& before_txn,
                        FenceResult& result) {
  const std::string target = cluster_schema::EncodeHwm(plan.target_millis);
  for (int attempt = 0; attempt < kFenceMaxAttempts; ++attempt) {
    etcd::Transaction txn;
    std::vector<std::pair<int64_t, Action>> writes;
    for (auto it = batch.begin(); it != batch.end();) {
      const Action action = Decide(it->second, plan.target_millis);
      if (action == Action::kKeep) {
        Count(action, result);
        it = batch.erase(it);
        continue;
      }
      const std::string key =
          cluster_schema::HwmKey(plan.prefix, plan.cluster, it->first);
      txn.compare.push_back(etcd::Compare::ModRevisionIs(
          key, it->second ? it->second->mod_revision : 0));
      txn.success.push_back(etcd::Op::Put(key, target));
      txn.failure.push_back(etcd::Op::Get(key));
      writes.emplace_back(it->first, action);
      ++it;
    }
    if (writes.empty()) return absl::OkStatus();
    if (!plan.dry_run) {
      if (before_txn) before_txn();
      absl::StatusOr<etcd::TxnResult> done = client.Txn(txn);
      if (!done.ok()) return done.status();
      ++result.transactions;
      if (!done->succeeded) {
        // Another writer (a node raising its own mark, another run of this
        // command) changed a key: read them all again and decide anew.
        ++result.conflicts;
        if (done->results.size() != writes.size()) {
          return absl::InternalError(
              "etcd answered a failed transaction with " +
              std::to_string(done->results.size()) + " results for " +
              std::to_string(writes.size()) + " reads");
        }
        for (size_t i = 0; i < writes.size(); ++i) {
          const std::vector<etcd::KeyValue>& kvs = done->results[i].kvs;
          batch[writes[i].first] =
              kvs.empty() ? std::nullopt : std::make_optional(kvs.front());
        }
        continue;
      }
    }
    for (const auto& [id, action] : writes) Count(action, result);
    return absl::OkStatus();
  }
  return absl::AbortedError(
      "the high-water marks of worker IDs " +
      std::to_string(batch.begin()->first) + " to " +
      std::to_string(batch.rbegin()->first) + " kept changing (" +
      std::to_string(kFenceMaxAttempts) + " attempts); run the command again");
}

void PrintText(const ClusterFlags& flags, const FenceRestoreFlags& fence,
               const FencePlan& plan, bool range_from_layout,
               const FenceResult& result, Io& io) {
  io.out << fmt::format("cluster  {} (prefix {}), worker IDs {}{}\n",
                        flags.cluster, flags.prefix, plan.range.ToString(),
                        range_from_layout ? " (the layout's)" : "");
  io.out << fmt::format(
      "target   {} ({} ms): now + outage budget {} s + clock skew {} ms\n",
      FormatRfc3339Millis(plan.target_millis), plan.target_millis,
      fence.outage_budget_seconds, fence.max_clock_skew_millis);
  io.out << fmt::format(
      "{} {} worker IDs to the target: {} raised, {} created, {} unreadable "
      "replaced; {} already at or above it\n",
      plan.dry_run ? "would fence" : "fenced  ", result.fenced(), result.raised,
      result.created, result.replaced, result.unchanged);
  if (plan.dry_run) io.out << "dry run: nothing was written\n";
}

void PrintJson(const ClusterFlags& flags, const FenceRestoreFlags& fence,
               const FencePlan& plan, const FenceResult& result, Io& io) {
  nlohmann::ordered_json json;
  json["cluster"] = flags.cluster;
  json["prefix"] = flags.prefix;
  json["range"] = {{"first", plan.range.first}, {"last", plan.range.last}};
  json["outage_budget_s"] = fence.outage_budget_seconds;
  json["max_clock_skew_ms"] = fence.max_clock_skew_millis;
  json["target_ms"] = plan.target_millis;
  json["target"] = FormatRfc3339Millis(plan.target_millis);
  json["dry_run"] = plan.dry_run;
  json["fenced"] = result.fenced();
  json["raised"] = result.raised;
  json["created"] = result.created;
  json["replaced"] = result.replaced;
  json["unchanged"] = result.unchanged;
  json["conflicts"] = result.conflicts;
  json["transactions"] = result.transactions;
  io.out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
         << '\n';
}

}  // namespace

absl::StatusOr<FenceResult> RaiseHwms(etcd::EtcdClient& client,
                                      const FencePlan& plan,
                                      const std::function<void()>& before_txn) {
  absl::StatusOr<std::vector<etcd::KeyValue>> stored =
      client.GetPrefix(cluster_schema::HwmPrefix(plan.prefix, plan.cluster));
  if (!stored.ok()) return stored.status();
  std::map<int64_t, etcd::KeyValue> by_id;
  for (etcd::KeyValue& kv : *stored) {
    const std::optional<int64_t> id = cluster_schema::IdOfKey(kv.key);
    // Only the key the nodes use: "hwm/7", not "hwm/007".
    if (!id || !plan.range.Contains(*id) ||
        kv.key != cluster_schema::HwmKey(plan.prefix, plan.cluster, *id)) {
      continue;
    }
    by_id[*id] = std::move(kv);
  }
  FenceResult result;
  for (int64_t first = plan.range.first; first <= plan.range.last;
       first += kFenceTxnOps) {
    const int64_t last = std::min(plan.range.last, first + kFenceTxnOps - 1);
    std::map<int64_t, std::optional<etcd::KeyValue>> batch;
    for (int64_t id = first; id <= last; ++id) {
      auto it = by_id.find(id);
      batch[id] = it == by_id.end() ? std::nullopt
                                    : std::make_optional(std::move(it->second));
    }
    absl::Status status =
        RaiseBatch(client, plan, std::move(batch), before_txn, result);
    if (!status.ok()) return AfterFencing(status, result, first);
  }
  return result;
}

absl::StatusOr<FenceResult> RaiseHwms(zookeeper::ZooKeeperClient& client,
                                      const FencePlan& plan,
                                      const std::function<void()>& before_txn) {
  std::string dir = cluster_schema::HwmPrefix(plan.prefix, plan.cluster);
  dir.pop_back();  // The trailing slash.
  if (!plan.dry_run) {
    // The nodes create it with their first mark; a cluster may have none.
    absl::StatusOr<zookeeper::NodeStat> made =
        client.Create(dir, "", zookeeper::CreateMode::kPersistent);
    if (!made.ok() && !absl::IsAlreadyExists(made.status())) {
      return made.status();
    }
  }
  absl::StatusOr<std::vector<std::string>> children = client.Children(dir);
  if (!children.ok() && !absl::IsNotFound(children.status())) {
    return children.status();
  }
  std::map<int64_t, bool> present;
  if (children.ok()) {
    for (const std::string& child : *children) {
      const std::string path = absl::StrCat(dir, "/", child);
      const std::optional<int64_t> id = cluster_schema::IdOfKey(path);
      // Only the znode the nodes use: "hwm/7", not "hwm/007".
      if (!id || !plan.range.Contains(*id) ||
          path != cluster_schema::HwmKey(plan.prefix, plan.cluster, *id)) {
        continue;
      }
      present[*id] = true;
    }
  }
  FenceResult result;
  for (int64_t first = plan.range.first; first <= plan.range.last;
       first += kFenceTxnOps) {
    const int64_t last = std::min(plan.range.last, first + kFenceTxnOps - 1);
    std::map<int64_t, std::optional<zookeeper::Node>> batch;
    for (int64_t id = first; id <= last; ++id) {
      batch[id] = std::nullopt;
      if (!present.contains(id)) continue;
      absl::StatusOr<std::optional<zookeeper::Node>> node = ReadNode(
          client, cluster_schema::HwmKey(plan.prefix, plan.cluster, id));
      if (!node.ok()) return AfterFencing(node.status(), result, first);
      batch[id] = *std::move(node);
    }
    absl::Status status =
        RaiseZooKeeperBatch(client, plan, std::move(batch), before_txn, result);
    if (!status.ok()) return AfterFencing(status, result, first);
  }
  return result;
}

int FenceRestore(const ClusterFlags& flags_in, const FenceRestoreFlags& fence,
                 Clock& clock, Io& io,
                 const std::function<void()>& before_txn) {
  ClusterFlags flags = flags_in;
  if (int code = internal::CheckClusterFlags(flags, kCommand, io);
      code != kExitOk) {
    return code;
  }
  if (fence.outage_budget_seconds < 1 ||
      fence.outage_budget_seconds > kMaxOutageBudgetSeconds) {
    return Fail(
        io, kExitUsage,
        fmt::format("--outage-budget: must be 1 to {} seconds, got {}",
                    kMaxOutageBudgetSeconds, fence.outage_budget_seconds));
  }
  if (fence.max_clock_skew_millis < 0 ||
      fence.max_clock_skew_millis > kMaxOutageBudgetSeconds * 1000) {
    return Fail(io, kExitUsage,
                fmt::format("--max-clock-skew-ms: must be 0 to {}, got {}",
                            kMaxOutageBudgetSeconds * 1000,
                            fence.max_clock_skew_millis));
  }
  absl::StatusOr<std::unique_ptr<internal::ClusterStore>> store =
      internal::OpenStore(flags);
  if (!store.ok()) {
    return internal::FailToOpen(io, kCommand, flags,
                                "cannot read the cluster from", store.status());
  }
  const std::string_view coordinator = (*store)->name();

  const std::string config_key =
      cluster_schema::ConfigKey(flags.prefix, flags.cluster);
  absl::StatusOr<std::optional<std::string>> config = (*store)->Get(config_key);
  if (!config.ok()) {
    return Fail(io, kExitBadData,
                fmt::format("cannot read the cluster from {}: {}", coordinator,
                            Message(config.status())));
  }
  if (!config->has_value()) {
    return Fail(io, kExitBadData,
                fmt::format("no such cluster: {} {} {} does not exist (check "
                            "--cluster and --prefix)",
                            coordinator,
                            (*store)->zookeeper() != nullptr ? "znode" : "key",
                            config_key));
  }
  const std::string& config_value = **config;
  const std::optional<int> bits = internal::WorkerBitsOfConfig(config_value);
  FencePlan plan;
  plan.prefix = flags.prefix;
  plan.cluster = flags.cluster;
  plan.dry_run = fence.dry_run;
  if (flags.worker_range.empty()) {
    if (!bits) {
      return Fail(io, kExitBadData,
                  "cannot tell the worker IDs from the cluster's config \"" +
                      config_value + "\"; give --worker-range");
    }
    plan.range = WorkerRange{0, (int64_t{1} << *bits) - 1};
  } else {
    plan.range = *ParseWorkerRange(flags.worker_range);
    if (bits && plan.range.last > (int64_t{1} << *bits) - 1) {
      return Fail(io, kExitUsage,
                  fmt::format("--worker-range {}: the cluster's layout has "
                              "worker IDs 0-{}",
                              flags.worker_range, (int64_t{1} << *bits) - 1));
    }
  }
  plan.target_millis = clock.NowMicros() / 1000 +
                       fence.outage_budget_seconds * 1000 +
                       fence.max_clock_skew_millis;

  absl::StatusOr<FenceResult> result =
      (*store)->zookeeper() != nullptr
          ? RaiseHwms(*(*store)->zookeeper(), plan, before_txn)
          : RaiseHwms(*(*store)->etcd(), plan, before_txn);
  if (!result.ok()) {
    return Fail(io, kExitBadData,
                fmt::format("cannot fence the cluster in {}: {}", coordinator,
                            Message(result.status())));
  }
  if (flags.json) {
    PrintJson(flags, fence, plan, *result, io);
  } else {
    PrintText(flags, fence, plan, flags.worker_range.empty(), *result, io);
  }
  return kExitOk;
}

}  // namespace snowflake::cli
