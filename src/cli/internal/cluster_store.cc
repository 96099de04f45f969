#include "src/cli/internal/cluster_store.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/cli/internal/cluster_util.h"
#include "src/etcd/etcd_client.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::cli::internal {
namespace {

class EtcdStore final : public ClusterStore {
 public:
  explicit EtcdStore(std::unique_ptr<etcd::EtcdClient> client)
      : client_(std::move(client)) {}

  std::string_view name() const override { return "etcd"; }

  absl::StatusOr<std::optional<std::string>> Get(
      const std::string& key) override {
    absl::StatusOr<std::optional<etcd::KeyValue>> kv = client_->Get(key);
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return std::nullopt;
    return (*kv)->value;
  }

  absl::StatusOr<std::vector<StoredEntry>> List(const std::string& dir,
                                                bool leases) override {
    absl::StatusOr<std::vector<etcd::KeyValue>> kvs = client_->GetPrefix(dir);
    if (!kvs.ok()) return kvs.status();
    std::vector<StoredEntry> entries;
    entries.reserve(kvs->size());
    for (etcd::KeyValue& kv : *kvs) {
      StoredEntry entry;
      entry.key = std::move(kv.key);
      entry.value = std::move(kv.value);
      if (leases) {
        entry.lease = std::to_string(kv.lease);
        if (kv.lease != 0) {
          absl::StatusOr<etcd::LeaseStatus> ttl =
              client_->LeaseTimeToLive(kv.lease);
          if (!ttl.ok()) {
            entry.lease_error = base::Message(ttl.status());
          } else if (ttl->found) {
            entry.lease_left_seconds = ttl->ttl_seconds;
          } else {
            entry.lease_error = "expired";
          }
        }
      }
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
      const std::string& prefix) override {
    return cli::ListClusters(*client_, prefix);
  }

  etcd::EtcdClient* etcd() override { return client_.get(); }

 private:
  std::unique_ptr<etcd::EtcdClient> client_;
};

class ZooKeeperStore final : public ClusterStore {
 public:
  explicit ZooKeeperStore(std::unique_ptr<zookeeper::ZooKeeperClient> client)
      : client_(std::move(client)) {}

  std::string_view name() const override { return "ZooKeeper"; }

  absl::StatusOr<std::optional<std::string>> Get(
      const std::string& key) override {
    absl::StatusOr<zookeeper::Node> node = client_->Get(key);
    if (absl::IsNotFound(node.status())) return std::nullopt;
    if (!node.ok()) return node.status();
    return std::move(node->value);
  }

  absl::StatusOr<std::vector<StoredEntry>> List(const std::string& dir,
                                                bool leases) override {
    std::string path = dir;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    absl::StatusOr<std::vector<std::string>> children = client_->Children(path);
    if (absl::IsNotFound(children.status())) return std::vector<StoredEntry>();
    if (!children.ok()) return children.status();
    std::vector<StoredEntry> entries;
    entries.reserve(children->size());
    for (const std::string& child : *children) {
      StoredEntry entry;
      entry.key = absl::StrCat(path, "/", child);
      absl::StatusOr<zookeeper::Node> node = client_->Get(entry.key);
      // Gone since the listing (its session ended): free now.
      if (absl::IsNotFound(node.status())) continue;
      if (!node.ok()) return node.status();
      entry.value = std::move(node->value);
      if (leases && node->stat.ephemeral_owner != 0) {
        entry.lease =
            fmt::format("session 0x{:x}",
                        static_cast<uint64_t>(node->stat.ephemeral_owner));
      }
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
      const std::string& prefix) override {
    return cli::ListClusters(*client_, prefix);
  }

  zookeeper::ZooKeeperClient* zookeeper() override { return client_.get(); }

 private:
  std::unique_ptr<zookeeper::ZooKeeperClient> client_;
};

absl::StatusOr<std::unique_ptr<ClusterStore>> OpenZooKeeper(
    const ClusterFlags& flags) {
  // The C client logs each failed connection attempt on its own threads;
  // the command says what failed in one line instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] {
    zookeeper::SetLogOutput(zookeeper::LogLevel::kError,
                            [](std::string_view) {});
  });
  zookeeper::ZooKeeperOptions options;
  options.hosts = flags.zookeeper_hosts;
  options.digest_auth = flags.zookeeper_auth;
  options.connect_timeout = std::chrono::milliseconds(flags.timeout_millis);
  options.call_timeout = std::chrono::milliseconds(flags.timeout_millis);
  absl::StatusOr<std::unique_ptr<zookeeper::ZooKeeperClient>> client =
      zookeeper::ZooKeeperClient::Connect(std::move(options));
  if (!client.ok()) return client.status();
  return std::make_unique<ZooKeeperStore>(*std::move(client));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterStore>> OpenStore(
    const ClusterFlags& flags) {
  if (!flags.zookeeper_hosts.empty()) return OpenZooKeeper(flags);
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client = Connect(flags);
  if (!client.ok()) return client.status();
  return std::make_unique<EtcdStore>(*std::move(client));
}

}  // namespace snowflake::cli::internal
