#include "testing/coordinator_backend.h"

#include <zookeeper/zookeeper.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/lease/zookeeper/zookeeper_lease.h"
#include "src/zookeeper/zookeeper_client.h"
#include "testing/etcd_launcher.h"
#include "testing/etcd_test_util.h"
#include "testing/zookeeper_launcher.h"

namespace snowflake::testing {
namespace {

using std::chrono::milliseconds;
namespace schema = cluster_schema;

// Both coordinators keep clusters under the default prefix / root znode.
constexpr char kRoot[] = "/snowflake";

absl::StatusOr<std::string> HolderName(const std::string& json) {
  absl::StatusOr<schema::Holder> holder = schema::DecodeHolder(json);
  if (!holder.ok()) return holder.status();
  return holder->node;
}

class EtcdBackend final : public CoordinatorBackend {
 public:
  explicit EtcdBackend(std::unique_ptr<EtcdLauncher> etcd)
      : etcd_(std::move(etcd)) {}

  CoordinatorKind kind() const override { return CoordinatorKind::kEtcd; }
  int size() const override { return etcd_->size(); }
  CoordinatorFlags NodeFlags() const override {
    return EtcdFlags(JoinUrls(etcd_->ClientUrls()));
  }
  absl::StatusOr<std::unique_ptr<ClusterLease>> MakeLease(
      ClusterLeaseOptions options, LeaseClock& clock) override {
    EtcdLeaseOptions etcd;
    static_cast<ClusterLeaseOptions&>(etcd) = std::move(options);
    etcd.client.endpoints = etcd_->ClientUrls();
    auto lease = EtcdLease::Create(std::move(etcd), clock);
    if (!lease.ok()) return lease.status();
    return std::unique_ptr<ClusterLease>(*std::move(lease));
  }
  std::string dir() const override { return etcd_->dir(); }

  absl::Status PutHwm(const std::string& cluster, int64_t id,
                      int64_t unix_millis) override {
    return Client().Put(schema::HwmKey(kRoot, cluster, id),
                        schema::EncodeHwm(unix_millis));
  }

  absl::Status Kill(int i) override { return etcd_->Kill(i); }
  absl::Status Restart(int i, bool wait) override {
    return etcd_->Restart(i, wait);
  }
  absl::Status Pause(int i) override { return etcd_->Pause(i); }
  absl::Status Resume(int i) override { return etcd_->Resume(i); }

  int Leader() override {
    absl::StatusOr<std::string> out =
        etcd_->Etcdctl({"endpoint", "status", "-w", "json"});
    if (!out.ok()) return -1;
    const nlohmann::json status = nlohmann::json::parse(*out, nullptr, false);
    if (!status.is_array()) return -1;
    for (const nlohmann::json& member : status) {
      const nlohmann::json& s = member["Status"];
      if (s["header"]["member_id"] != s["leader"]) continue;
      for (int i = 0; i < etcd_->size(); ++i) {
        if (member["Endpoint"] == etcd_->ClientUrl(i)) return i;
      }
    }
    return -1;
  }

  absl::StatusOr<std::optional<ClaimInfo>> ReadClaim(const std::string& cluster,
                                                     int64_t id) override {
    absl::StatusOr<std::optional<etcd::KeyValue>> kv =
        Client().Get(schema::WorkerKey(kRoot, cluster, id));
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return std::nullopt;
    absl::StatusOr<std::string> node = HolderName((*kv)->value);
    if (!node.ok()) return node.status();
    return ClaimInfo{*node, (*kv)->lease};
  }

  absl::StatusOr<size_t> ClaimCount(const std::string& cluster) override {
    absl::StatusOr<std::vector<etcd::KeyValue>> kvs =
        Client().GetPrefix(schema::WorkersPrefix(kRoot, cluster));
    if (!kvs.ok()) return kvs.status();
    return kvs->size();
  }

  std::optional<size_t> DiscoveryCount(const std::string& cluster) override {
    absl::StatusOr<std::vector<etcd::KeyValue>> kvs =
        Client().GetPrefix(schema::NodesPrefix(kRoot, cluster));
    if (!kvs.ok()) return std::nullopt;
    return kvs->size();
  }

  absl::StatusOr<std::optional<int64_t>> StoredHwm(const std::string& cluster,
                                                   int64_t id) override {
    absl::StatusOr<std::optional<etcd::KeyValue>> kv =
        Client().Get(schema::HwmKey(kRoot, cluster, id));
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return std::nullopt;
    absl::StatusOr<int64_t> millis = schema::DecodeHwm((*kv)->value);
    if (!millis.ok()) return millis.status();
    return *millis;
  }

  absl::Status EndSession(const std::string& cluster, int64_t id) override {
    absl::StatusOr<std::optional<ClaimInfo>> claim = ReadClaim(cluster, id);
    if (!claim.ok()) return claim.status();
    if (!claim->has_value() || (*claim)->session == 0) {
      return absl::NotFoundError("no lease holds worker " + std::to_string(id));
    }
    return Client().LeaseRevoke((*claim)->session);
  }

  absl::Status DeleteClaim(const std::string& cluster, int64_t id) override {
    absl::StatusOr<int64_t> deleted =
        Client().Delete(schema::WorkerKey(kRoot, cluster, id));
    if (!deleted.ok()) return deleted.status();
    if (*deleted != 1) return absl::NotFoundError("no claim to delete");
    return absl::OkStatus();
  }

  std::string LogTail(int i) const override { return etcd_->LogTail(i); }

 private:
  // gRPC's channel reconnects by itself: one client serves the whole test.
  etcd::EtcdClient& Client() {
    std::lock_guard<std::mutex> lock(mu_);
    if (client_ == nullptr) client_ = ConnectEtcd(*etcd_);
    return *client_;
  }

  std::unique_ptr<EtcdLauncher> etcd_;
  std::mutex mu_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

// Presents `session_id` (and the password the server derives from it) on a
// connection of its own and closes that session, which makes the server
// delete its ephemeral znodes and expire it for its other connection.
// Errors: kUnavailable when no server accepted the session in `timeout` or
// the close was not confirmed; kNotFound when the server says the session
// is already gone.
absl::Status CloseSessionFromOutside(const std::string& hosts,
                                     int64_t session_id, milliseconds timeout) {
  struct Events {
    std::mutex mu;
    std::condition_variable changed;
    int state = 0;
  } events;
  clientid_t client_id{};
  client_id.client_id = session_id;
  const std::string password = ZooKeeperSessionPassword(session_id);
  std::memcpy(client_id.passwd, password.data(), sizeof(client_id.passwd));
  zhandle_t* zh = zookeeper_init(
      hosts.c_str(),
      [](zhandle_t*, int type, int state, const char*, void* context) {
        if (type != ZOO_SESSION_EVENT) return;
        auto* e = static_cast<Events*>(context);
        std::lock_guard<std::mutex> lock(e->mu);
        e->state = state;
        e->changed.notify_all();
      },
      static_cast<int>(timeout.count()), &client_id, &events, 0);
  if (zh == nullptr) {
    return absl::InternalError("zookeeper_init failed: " +
                               std::string(std::strerror(errno)));
  }
  int state = 0;
  {
    std::unique_lock<std::mutex> lock(events.mu);
    events.changed.wait_for(lock, timeout, [&] {
      return events.state == ZOO_CONNECTED_STATE ||
             events.state == ZOO_EXPIRED_SESSION_STATE ||
             events.state == ZOO_AUTH_FAILED_STATE;
    });
    state = events.state;
  }
  const int64_t granted = zoo_client_id(zh)->client_id;
  // Sends closeSession on a connected handle and waits for its answer.
  const int rc = zookeeper_close(zh);
  if (state == ZOO_EXPIRED_SESSION_STATE) {
    return absl::NotFoundError("the server says the session expired already");
  }
  if (state != ZOO_CONNECTED_STATE || granted != session_id) {
    return absl::UnavailableError("no server took the session (state " +
                                  std::to_string(state) + ")");
  }
  if (rc != ZOK) {
    return absl::UnavailableError("closeSession not confirmed: " +
                                  std::string(zerror(rc)));
  }
  return absl::OkStatus();
}

class ZooKeeperBackend final : public CoordinatorBackend {
 public:
  explicit ZooKeeperBackend(std::unique_ptr<ZooKeeperLauncher> zk)
      : zk_(std::move(zk)) {}

  CoordinatorKind kind() const override { return CoordinatorKind::kZooKeeper; }
  int size() const override { return zk_->size(); }
  CoordinatorFlags NodeFlags() const override {
    return [hosts = zk_->ConnectString()](int ttl_seconds) {
      return std::vector<std::string>{
          "--coordinator", "zookeeper",         "--zookeeper-hosts",
          hosts,           "--session-timeout", std::to_string(ttl_seconds)};
    };
  }

  absl::StatusOr<std::unique_ptr<ClusterLease>> MakeLease(
      ClusterLeaseOptions options, LeaseClock& clock) override {
    ZooKeeperLeaseOptions zk;
    static_cast<ClusterLeaseOptions&>(zk) = std::move(options);
    zk.hosts = zk_->ConnectString();
    auto lease = ZooKeeperLease::Create(std::move(zk), clock);
    if (!lease.ok()) return lease.status();
    return std::unique_ptr<ClusterLease>(*std::move(lease));
  }
  std::string dir() const override { return zk_->dir(); }

  absl::Status PutHwm(const std::string& cluster, int64_t id,
                      int64_t unix_millis) override {
    absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> client =
        Client();
    if (!client.ok()) return client.status();
    const std::string value = schema::EncodeHwm(unix_millis);
    // The parents first, as a node makes them; then create or overwrite.
    for (const std::string& path :
         {std::string(kRoot), absl::StrCat(kRoot, "/", cluster),
          absl::StrCat(kRoot, "/", cluster, "/hwm"),
          schema::HwmKey(kRoot, cluster, id)}) {
      absl::StatusOr<zookeeper::NodeStat> made = (*client)->Create(
          path,
          path == schema::HwmKey(kRoot, cluster, id) ? value : std::string(),
          zookeeper::CreateMode::kPersistent);
      if (!made.ok() && !absl::IsAlreadyExists(made.status())) {
        return Forget(made.status());
      }
    }
    absl::StatusOr<zookeeper::NodeStat> set = (*client)->Set(
        schema::HwmKey(kRoot, cluster, id), value, zookeeper::kAnyVersion);
    return set.ok() ? absl::OkStatus() : Forget(set.status());
  }

  absl::Status Kill(int i) override { return zk_->Kill(i); }
  absl::Status Restart(int i, bool wait) override {
    return zk_->Restart(i, wait);
  }
  absl::Status Pause(int i) override { return zk_->Pause(i); }
  absl::Status Resume(int i) override { return zk_->Resume(i); }
  int Leader() override { return zk_->FindMember("leader"); }

  absl::StatusOr<std::optional<ClaimInfo>> ReadClaim(const std::string& cluster,
                                                     int64_t id) override {
    absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> client =
        Client();
    if (!client.ok()) return client.status();
    absl::StatusOr<zookeeper::Node> node =
        (*client)->Get(schema::WorkerKey(kRoot, cluster, id));
    if (absl::IsNotFound(node.status())) return std::nullopt;
    if (!node.ok()) return Forget(node.status());
    absl::StatusOr<std::string> holder = HolderName(node->value);
    if (!holder.ok()) return holder.status();
    return ClaimInfo{*holder, node->stat.ephemeral_owner};
  }

  absl::StatusOr<size_t> ClaimCount(const std::string& cluster) override {
    absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> client =
        Client();
    if (!client.ok()) return client.status();
    std::string workers = schema::WorkersPrefix(kRoot, cluster);
    workers.pop_back();  // The trailing slash.
    absl::StatusOr<std::vector<std::string>> children =
        (*client)->Children(workers);
    if (absl::IsNotFound(children.status())) return 0;
    if (!children.ok()) return Forget(children.status());
    return children->size();
  }

  std::optional<size_t> DiscoveryCount(const std::string&) override {
    return std::nullopt;
  }

  absl::StatusOr<std::optional<int64_t>> StoredHwm(const std::string& cluster,
                                                   int64_t id) override {
    absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> client =
        Client();
    if (!client.ok()) return client.status();
    absl::StatusOr<zookeeper::Node> node =
        (*client)->Get(schema::HwmKey(kRoot, cluster, id));
    if (absl::IsNotFound(node.status())) return std::nullopt;
    if (!node.ok()) return Forget(node.status());
    absl::StatusOr<int64_t> millis = schema::DecodeHwm(node->value);
    if (!millis.ok()) return millis.status();
    return *millis;
  }

  absl::Status EndSession(const std::string& cluster, int64_t id) override {
    absl::StatusOr<std::optional<ClaimInfo>> claim = ReadClaim(cluster, id);
    if (!claim.ok()) return claim.status();
    if (!claim->has_value() || (*claim)->session == 0) {
      return absl::NotFoundError("no session holds worker " +
                                 std::to_string(id));
    }
    const int64_t session = (*claim)->session;
    // The holder's client, kicked off by our connection (the server keeps
    // one connection per session), may reconnect and kick ours off before
    // the close goes out: then try again.
    absl::Status closed;
    for (int attempt = 0; attempt < 5; ++attempt) {
      closed = CloseSessionFromOutside(zk_->ConnectString(), session,
                                       milliseconds(4000));
      claim = ReadClaim(cluster, id);
      std::printf("closing session 0x%llx from outside: %s; the claim is %s\n",
                  static_cast<unsigned long long>(session),
                  closed.ToString().c_str(),
                  !claim.ok()                    ? "unknown"
                  : !claim->has_value()          ? "gone"
                  : (*claim)->session == session ? "still the session's"
                                                 : "another session's");
      if (claim.ok() && (!claim->has_value() || (*claim)->session != session)) {
        return absl::OkStatus();
      }
    }
    return closed;
  }

  absl::Status DeleteClaim(const std::string& cluster, int64_t id) override {
    absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> client =
        Client();
    if (!client.ok()) return client.status();
    absl::Status deleted = (*client)->Delete(
        schema::WorkerKey(kRoot, cluster, id), zookeeper::kAnyVersion);
    return deleted.ok() ? deleted : Forget(deleted);
  }

  std::string LogTail(int i) const override { return zk_->LogTail(i); }

 private:
  // One session for the test's reads, made again once it has expired or
  // failed (after the whole ensemble was down, say).
  absl::StatusOr<std::shared_ptr<zookeeper::ZooKeeperClient>> Client() {
    std::lock_guard<std::mutex> lock(mu_);
    if (client_ != nullptr &&
        client_->state() != zookeeper::SessionState::kExpired &&
        client_->state() != zookeeper::SessionState::kAuthFailed) {
      return client_;
    }
    zookeeper::ZooKeeperOptions options;
    options.hosts = zk_->ConnectString();
    options.session_timeout = milliseconds(10000);
    options.connect_timeout = milliseconds(3000);
    options.call_timeout = milliseconds(2000);
    absl::StatusOr<std::unique_ptr<zookeeper::ZooKeeperClient>> client =
        zookeeper::ZooKeeperClient::Connect(std::move(options));
    if (!client.ok()) return client.status();
    client_ = std::shared_ptr<zookeeper::ZooKeeperClient>(*std::move(client));
    return client_;
  }
  absl::Status Forget(absl::Status status) {
    if (zookeeper::IsSessionExpired(status)) {
      std::lock_guard<std::mutex> lock(mu_);
      client_.reset();
    }
    return status;
  }

  std::unique_ptr<ZooKeeperLauncher> zk_;
  std::mutex mu_;
  std::shared_ptr<zookeeper::ZooKeeperClient> client_;
};

}  // namespace

std::string KindName(CoordinatorKind kind) {
  return kind == CoordinatorKind::kEtcd ? "etcd" : "zookeeper";
}

std::unique_ptr<CoordinatorBackend> CoordinatorBackend::Start(
    CoordinatorKind kind, int members) {
  if (kind == CoordinatorKind::kEtcd) {
    EtcdLauncherOptions options;
    options.members = members;
    std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
    if (etcd == nullptr) return nullptr;
    return std::make_unique<EtcdBackend>(std::move(etcd));
  }
  ZooKeeperLauncherOptions options;
  options.members = members;
  absl::StatusOr<std::unique_ptr<ZooKeeperLauncher>> zk =
      ZooKeeperLauncher::Start(options);
  EXPECT_TRUE(zk.ok()) << zk.status();
  if (!zk.ok()) return nullptr;
  std::printf("ZooKeeper: %d member(s) serving after %lld ms\n", members,
              static_cast<long long>((*zk)->start_duration().count()));
  return std::make_unique<ZooKeeperBackend>(*std::move(zk));
}

absl::Status CoordinatorBackend::StopAll() {
  for (int i = 0; i < size(); ++i) {
    absl::Status killed = Kill(i);
    if (!killed.ok()) return killed;
  }
  return absl::OkStatus();
}

absl::Status CoordinatorBackend::StartAll() {
  for (int i = 0; i < size(); ++i) {
    absl::Status started = Restart(i, /*wait=*/i == size() - 1);
    if (!started.ok()) return started;
  }
  return absl::OkStatus();
}

std::string ZooKeeperSessionPassword(int64_t session_id) {
  // java.util.Random(seed): a 48-bit linear congruential generator.
  constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
  constexpr uint64_t kMask = (uint64_t{1} << 48) - 1;
  constexpr uint64_t kSuperSecret = 0xB3415C00ULL;
  uint64_t seed =
      ((static_cast<uint64_t>(session_id) ^ kSuperSecret) ^ kMultiplier) &
      kMask;
  std::string password(16, '\0');
  // nextBytes: each nextInt() gives four bytes, low byte first.
  for (size_t i = 0; i < password.size();) {
    seed = (seed * kMultiplier + 0xB) & kMask;
    auto rnd = static_cast<uint32_t>(seed >> 16);
    for (int n = 0; n < 4 && i < password.size(); ++n, rnd >>= 8) {
      password[i++] = static_cast<char>(rnd & 0xFF);
    }
  }
  return password;
}

}  // namespace snowflake::testing
