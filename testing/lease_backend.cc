#include "testing/lease_backend.h"

#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/lease/zookeeper/zookeeper_lease.h"
#include "src/zookeeper/zookeeper_client.h"
#include "testing/etcd_launcher.h"
#include "testing/zookeeper_launcher.h"

namespace snowflake::testing {
namespace {

namespace schema = cluster_schema;
constexpr char kPrefix[] = "/snowflake";

class EtcdBackend final : public LeaseBackend {
 public:
  explicit EtcdBackend(std::unique_ptr<EtcdLauncher> etcd)
      : etcd_(std::move(etcd)) {
    etcd::Options options;
    options.endpoints = etcd_->ClientUrls();
    client_ = std::move(*etcd::EtcdClient::Create(options));
  }

  absl::StatusOr<std::unique_ptr<ClusterLease>> Make(
      ClusterLeaseOptions options, LeaseClock& clock) override {
    EtcdLeaseOptions etcd;
    static_cast<ClusterLeaseOptions&>(etcd) = std::move(options);
    etcd.client.endpoints = etcd_->ClientUrls();
    auto lease = EtcdLease::Create(std::move(etcd), clock);
    if (!lease.ok()) return lease.status();
    return std::unique_ptr<ClusterLease>(*std::move(lease));
  }

  absl::Status PutMark(const std::string& cluster, int64_t worker_id,
                       int64_t unix_millis) override {
    return client_->Put(schema::HwmKey(kPrefix, cluster, worker_id),
                        schema::EncodeHwm(unix_millis));
  }

  absl::StatusOr<int64_t> ReadMark(const std::string& cluster,
                                   int64_t worker_id) override {
    auto kv = client_->Get(schema::HwmKey(kPrefix, cluster, worker_id));
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return absl::NotFoundError("no mark");
    return schema::DecodeHwm((*kv)->value);
  }

  absl::Status DeleteClaim(const std::string& cluster,
                           int64_t worker_id) override {
    return client_->Delete(schema::WorkerKey(kPrefix, cluster, worker_id))
        .status();
  }

  absl::StatusOr<std::string> ClaimNode(const std::string& cluster,
                                        int64_t worker_id) override {
    auto kv = client_->Get(schema::WorkerKey(kPrefix, cluster, worker_id));
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return absl::NotFoundError("no claim");
    auto holder = schema::DecodeHolder((*kv)->value);
    if (!holder.ok()) return holder.status();
    return holder->node;
  }

  absl::Status EndSession(const std::string& cluster, int64_t worker_id,
                          int64_t /*session_timeout_millis*/) override {
    auto kv = client_->Get(schema::WorkerKey(kPrefix, cluster, worker_id));
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return absl::NotFoundError("no claim");
    return client_->LeaseRevoke((*kv)->lease);
  }

  absl::Status Pause() override { return etcd_->Pause(0); }
  absl::Status Resume() override { return etcd_->Resume(0); }
  std::string dir() const override { return etcd_->dir(); }
  std::string deleted_reason() const override { return "was deleted"; }

 private:
  std::unique_ptr<EtcdLauncher> etcd_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

class ZooKeeperBackend final : public LeaseBackend {
 public:
  ZooKeeperBackend(std::unique_ptr<ZooKeeperLauncher> zk,
                   std::unique_ptr<zookeeper::ZooKeeperClient> client)
      : zk_(std::move(zk)), client_(std::move(client)) {}

  absl::StatusOr<std::unique_ptr<ClusterLease>> Make(
      ClusterLeaseOptions options, LeaseClock& clock) override {
    ZooKeeperLeaseOptions zk;
    static_cast<ClusterLeaseOptions&>(zk) = std::move(options);
    zk.hosts = zk_->ConnectString();
    auto lease = ZooKeeperLease::Create(std::move(zk), clock);
    if (!lease.ok()) return lease.status();
    return std::unique_ptr<ClusterLease>(*std::move(lease));
  }

  absl::Status PutMark(const std::string& cluster, int64_t worker_id,
                       int64_t unix_millis) override {
    const std::string path = schema::HwmKey(kPrefix, cluster, worker_id);
    // The parents, as a node makes them; then create or overwrite.
    for (const std::string& parent :
         {std::string(kPrefix), absl::StrCat(kPrefix, "/", cluster),
          absl::StrCat(kPrefix, "/", cluster, "/hwm")}) {
      auto made =
          client_->Create(parent, "", zookeeper::CreateMode::kPersistent);
      if (!made.ok() &&
          made.status().code() != absl::StatusCode::kAlreadyExists) {
        return made.status();
      }
    }
    auto made = client_->Create(path, schema::EncodeHwm(unix_millis),
                                zookeeper::CreateMode::kPersistent);
    if (made.ok()) return absl::OkStatus();
    if (made.status().code() != absl::StatusCode::kAlreadyExists) {
      return made.status();
    }
    return client_
        ->Set(path, schema::EncodeHwm(unix_millis), zookeeper::kAnyVersion)
        .status();
  }

  absl::StatusOr<int64_t> ReadMark(const std::string& cluster,
                                   int64_t worker_id) override {
    auto node = client_->Get(schema::HwmKey(kPrefix, cluster, worker_id));
    if (!node.ok()) return node.status();
    return schema::DecodeHwm(node->value);
  }

  absl::Status DeleteClaim(const std::string& cluster,
                           int64_t worker_id) override {
    return client_->Delete(schema::WorkerKey(kPrefix, cluster, worker_id),
                           zookeeper::kAnyVersion);
  }

  absl::StatusOr<std::string> ClaimNode(const std::string& cluster,
                                        int64_t worker_id) override {
    auto node = client_->Get(schema::WorkerKey(kPrefix, cluster, worker_id));
    if (!node.ok()) return node.status();
    auto holder = schema::DecodeHolder(node->value);
    if (!holder.ok()) return holder.status();
    return holder->node;
  }

  // ZooKeeper has no command that ends another client's session: freeze
  // the server past the session's timeout, and it expires the session when
  // it thaws, before the client can renew it.
  absl::Status EndSession(const std::string& cluster, int64_t worker_id,
                          int64_t session_timeout_millis) override {
    auto node = client_->Get(schema::WorkerKey(kPrefix, cluster, worker_id));
    if (!node.ok()) return node.status();
    const int64_t session = node->stat.ephemeral_owner;
    client_.reset();  // Its own session would expire too.
    if (absl::Status s = zk_->Pause(0); !s.ok()) return s;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(session_timeout_millis + 1000));
    if (absl::Status s = zk_->Resume(0); !s.ok()) return s;
    if (absl::Status s = Connect(); !s.ok()) return s;
    // Gone once the server has expired it.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      auto stat =
          client_->Exists(schema::WorkerKey(kPrefix, cluster, worker_id));
      if (stat.ok() &&
          (!stat->has_value() || (*stat)->ephemeral_owner != session)) {
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError("the session did not expire");
  }

  absl::Status Pause() override { return zk_->Pause(0); }
  absl::Status Resume() override { return zk_->Resume(0); }
  std::string dir() const override { return zk_->dir(); }
  std::string deleted_reason() const override { return "is gone"; }

  absl::Status Connect() {
    zookeeper::ZooKeeperOptions options;
    options.hosts = zk_->ConnectString();
    auto client = zookeeper::ZooKeeperClient::Connect(options);
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<ZooKeeperLauncher> zk_;
  std::unique_ptr<zookeeper::ZooKeeperClient> client_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LeaseBackend>> LeaseBackend::Start(
    const std::string& name) {
  if (name == "etcd") {
    auto etcd = EtcdLauncher::Start();
    if (!etcd.ok()) return etcd.status();
    return std::unique_ptr<LeaseBackend>(new EtcdBackend(*std::move(etcd)));
  }
  if (name == "zookeeper") {
    auto zk = ZooKeeperLauncher::Start();
    if (!zk.ok()) return zk.status();
    auto backend = std::make_unique<ZooKeeperBackend>(*std::move(zk), nullptr);
    if (absl::Status s = backend->Connect(); !s.ok()) return s;
    return std::unique_ptr<LeaseBackend>(std::move(backend));
  }
  return absl::InvalidArgumentError(absl::StrCat("no backend ", name));
}

}  // namespace snowflake::testing
