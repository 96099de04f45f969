#include "src/client/coordinator_store.h"

#include <fmt/format.h>

#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/lease/cluster_schema.h"

namespace snowflake::client {
namespace {

class EtcdStore final : public CoordinatorStore {
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

  etcd::EtcdClient* etcd() override { return client_.get(); }

 private:
  std::unique_ptr<etcd::EtcdClient> client_;
};

class ZooKeeperStore final : public CoordinatorStore {
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

  zookeeper::ZooKeeperClient* zookeeper() override { return client_.get(); }

 private:
  std::unique_ptr<zookeeper::ZooKeeperClient> client_;
};

absl::StatusOr<std::unique_ptr<CoordinatorStore>> OpenZooKeeper(
    const CoordinatorOptions& options) {
  // The C client logs each failed connection attempt on its own threads;
  // the caller says what failed in one line instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] {
    zookeeper::SetLogOutput(zookeeper::LogLevel::kError,
                            [](std::string_view) {});
  });
  zookeeper::ZooKeeperOptions zk;
  zk.hosts = options.zookeeper_hosts;
  zk.digest_auth = options.zookeeper_auth;
  zk.connect_timeout = options.timeout;
  zk.call_timeout = options.timeout;
  absl::StatusOr<std::unique_ptr<zookeeper::ZooKeeperClient>> client =
      zookeeper::ZooKeeperClient::Connect(std::move(zk));
  if (!client.ok()) return client.status();
  return std::make_unique<ZooKeeperStore>(*std::move(client));
}

absl::StatusOr<std::unique_ptr<CoordinatorStore>> OpenEtcd(
    const CoordinatorOptions& options) {
  etcd::Options etcd_options;
  etcd_options.endpoints = options.etcd_endpoints;
  etcd_options.timeout = options.timeout;
  etcd_options.dial_timeout = options.timeout;
  if (!options.ca_file.empty() || !options.cert_file.empty() ||
      !options.key_file.empty()) {
    etcd_options.tls =
        etcd::TlsOptions{options.ca_file, options.cert_file, options.key_file};
  }
  etcd_options.username = options.user;
  etcd_options.password = options.password;
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(std::move(etcd_options));
  if (!client.ok()) return client.status();
  return std::make_unique<EtcdStore>(*std::move(client));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorStore>> OpenCoordinatorStore(
    const CoordinatorOptions& options) {
  if (!options.zookeeper_hosts.empty()) return OpenZooKeeper(options);
  return OpenEtcd(options);
}

absl::StatusOr<ClusterSnapshot> ReadCluster(CoordinatorStore& store,
                                            const std::string& prefix,
                                            const std::string& cluster) {
  absl::StatusOr<std::optional<std::string>> config =
      store.Get(cluster_schema::ConfigKey(prefix, cluster));
  if (!config.ok()) return config.status();
  absl::StatusOr<std::vector<StoredEntry>> workers =
      store.List(cluster_schema::WorkersPrefix(prefix, cluster),
                 /*leases=*/true);
  if (!workers.ok()) return workers.status();
  absl::StatusOr<std::vector<StoredEntry>> hwms =
      store.List(cluster_schema::HwmPrefix(prefix, cluster), /*leases=*/false);
  if (!hwms.ok()) return hwms.status();
  return MakeClusterSnapshot(*std::move(config), *std::move(workers), *hwms);
}

ClusterReader::ClusterReader(CoordinatorOptions options, std::string prefix,
                             std::string cluster)
    : options_(std::move(options)),
      prefix_(std::move(prefix)),
      cluster_(std::move(cluster)) {}

absl::StatusOr<ClusterSnapshot> ClusterReader::Read() {
  if (store_ == nullptr) {
    absl::StatusOr<std::unique_ptr<CoordinatorStore>> store =
        OpenCoordinatorStore(options_);
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
  }
  absl::StatusOr<ClusterSnapshot> snapshot =
      ReadCluster(*store_, prefix_, cluster_);
  if (!snapshot.ok()) store_.reset();
  return snapshot;
}

}  // namespace snowflake::client
