// EtcdClient against real etcd processes started by EtcdLauncher.
#include "src/etcd/etcd_client.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_launcher.h"
#include "testing/etcd_test_util.h"

namespace snowflake::etcd {
namespace {

using ::snowflake::testing::ConnectEtcd;
using ::snowflake::testing::EtcdLauncher;
using ::snowflake::testing::EtcdLauncherOptions;
using ::snowflake::testing::Eventually;
using ::snowflake::testing::SharedEtcdTest;
using ::snowflake::testing::StartEtcd;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// Port 1 on loopback: privileged, nothing listens, connections are refused.
constexpr char kDeadEndpoint[] = "http://127.0.0.1:1";

// Tests that share one single-member etcd; each uses its own keys.
class EtcdClientTest : public SharedEtcdTest<EtcdClientTest> {};

TEST_F(EtcdClientTest, PutGetDeleteAndPrefix) {
  absl::StatusOr<std::optional<KeyValue>> missing = client_->Get("kv/none");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());

  ASSERT_OK(client_->Put("kv/a", "1"));
  ASSERT_OK(client_->Put("kv/b", "2"));
  ASSERT_OK(client_->Put("kv/b", "22"));
  ASSERT_OK(client_->Put("kw", "outside"));

  absl::StatusOr<std::optional<KeyValue>> b = client_->Get("kv/b");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->value, "22");
  EXPECT_EQ((*b)->version, 2);
  EXPECT_EQ((*b)->lease, 0);
  EXPECT_GT((*b)->mod_revision, (*b)->create_revision);

  absl::StatusOr<std::vector<KeyValue>> listed = client_->GetPrefix("kv/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_THAT(*listed, SizeIs(2));
  EXPECT_EQ((*listed)[0].key, "kv/a");
  EXPECT_EQ((*listed)[1].key, "kv/b");

  absl::StatusOr<int64_t> deleted = client_->Delete("kv/a");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  deleted = client_->Delete("kv/a");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 0);
  listed = client_->GetPrefix("kv/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, SizeIs(1));
}

TEST_F(EtcdClientTest, TxnCreatesOnlyIfAbsentAndHoldsOnlyWhileOurs) {
  absl::StatusOr<Lease> ours = client_->LeaseGrant(30);
  absl::StatusOr<Lease> theirs = client_->LeaseGrant(30);
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  const std::string key = "txn/workers/7";

  auto claim = [&](int64_t lease, const std::string& node) {
    Transaction txn;
    txn.compare.push_back(Compare::Absent(key));
    txn.success.push_back(Op::Put(key, node, lease));
    txn.failure.push_back(Op::Get(key));
    return client_->Txn(txn);
  };
  absl::StatusOr<TxnResult> first = claim(ours->id, "node-a");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->succeeded);
  EXPECT_GT(first->revision, 0);

  absl::StatusOr<TxnResult> second = claim(theirs->id, "node-b");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->succeeded);
  ASSERT_THAT(second->results, SizeIs(1));
  ASSERT_THAT(second->results[0].kvs, SizeIs(1));
  EXPECT_EQ(second->results[0].kvs[0].value, "node-a");
  EXPECT_EQ(second->results[0].kvs[0].lease, ours->id);

  // "Reserve the HWM only while the claim is ours".
  auto reserve = [&](int64_t lease, const std::string& hwm) {
    Transaction txn;
    txn.compare.push_back(Compare::LeaseIs(key, lease));
    txn.compare.push_back(Compare::ValueIs(key, "node-a"));
    txn.success.push_back(Op::Put("txn/hwm/7", hwm));
    return client_->Txn(txn);
  };
  absl::StatusOr<TxnResult> reserved = reserve(ours->id, "100");
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_TRUE(reserved->succeeded);
  absl::StatusOr<TxnResult> stolen = reserve(theirs->id, "200");
  ASSERT_TRUE(stolen.ok()) << stolen.status();
  EXPECT_FALSE(stolen->succeeded);

  // Once our lease is gone the key is free again, and the claim no longer
  // holds for us.
  ASSERT_OK(client_->LeaseRevoke(ours->id));
  reserved = reserve(ours->id, "300");
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_FALSE(reserved->succeeded);
  second = claim(theirs->id, "node-b");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->succeeded);
  absl::StatusOr<std::optional<KeyValue>> hwm = client_->Get("txn/hwm/7");
  ASSERT_TRUE(hwm.ok() && hwm->has_value());
  EXPECT_EQ((*hwm)->value, "100");
  ASSERT_OK(client_->LeaseRevoke(theirs->id));
}

TEST_F(EtcdClientTest, LeaseGrantKeepAliveTimeToLiveRevoke) {
  absl::StatusOr<Lease> lease = client_->LeaseGrant(10);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_NE(lease->id, 0);
  EXPECT_EQ(lease->ttl_seconds, 10);
  ASSERT_OK(client_->Put("lease/a", "x", lease->id));

  absl::StatusOr<int64_t> renewed = client_->LeaseKeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 10);

  absl::StatusOr<LeaseStatus> status =
      client_->LeaseTimeToLive(lease->id, true);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->found);
  EXPECT_GT(status->ttl_seconds, 0);
  EXPECT_LE(status->ttl_seconds, 10);
  EXPECT_EQ(status->granted_ttl_seconds, 10);
  EXPECT_THAT(status->keys, ::testing::ElementsAre("lease/a"));

  ASSERT_OK(client_->LeaseRevoke(lease->id));
  absl::StatusOr<std::optional<KeyValue>> gone = client_->Get("lease/a");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value());

  renewed = client_->LeaseKeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 0);
  status = client_->LeaseTimeToLive(lease->id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_FALSE(status->found);

  absl::Status again = client_->LeaseRevoke(lease->id);
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound) << again;
  EXPECT_THAT(again.message(), HasSubstr(etcd_->ClientUrl(0)));
  absl::Status put = client_->Put("lease/b", "x", lease->id);
  EXPECT_EQ(put.code(), absl::StatusCode::kNotFound) << put;
}

TEST_F(EtcdClientTest, KeyGoesWhenItsLeaseExpires) {
  absl::StatusOr<Lease> lease = client_->LeaseGrant(2);
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_OK(client_->Put("expire/a", "x", lease->id));
  const auto start = steady_clock::now();
  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::optional<KeyValue>> kv = client_->Get("expire/a");
        return kv.ok() && !kv->has_value();
      },
      milliseconds(8000)));
  EXPECT_GE(Since(start), milliseconds(1000));
  absl::StatusOr<int64_t> renewed = client_->LeaseKeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 0);
}

TEST_F(EtcdClientTest, FailsOverFromADeadEndpointAndRemembersTheLiveOne) {
  std::unique_ptr<EtcdClient> client =
      ConnectEtcd({kDeadEndpoint, etcd_->ClientUrl(0)});
  ASSERT_NE(client, nullptr);
  const auto start = steady_clock::now();
  ASSERT_OK(client->Put("failover/a", "1"));
  EXPECT_LT(Since(start), milliseconds(2500));
  EXPECT_EQ(client->CurrentEndpoint(), etcd_->ClientUrl(0));
  absl::StatusOr<std::optional<KeyValue>> kv = client->Get("failover/a");
  ASSERT_TRUE(kv.ok()) << kv.status();
  ASSERT_TRUE(kv->has_value());

  std::unique_ptr<EtcdClient> dead =
      ConnectEtcd({kDeadEndpoint, "http://127.0.0.1:2"});
  absl::Status status = dead->Put("failover/b", "1");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("etcd Put at http://127.0.0.1:1, http://127.0.0.1:2"));
}

// A call against a frozen member ends with its deadline instead of hanging.
TEST_F(EtcdClientTest, CallsToAFrozenEtcdTimeOut) {
  Options options;
  options.endpoints = etcd_->ClientUrls();
  options.timeout = milliseconds(500);
  options.dial_timeout = milliseconds(500);
  std::unique_ptr<EtcdClient> connected = ConnectEtcd(options);
  ASSERT_OK(connected->Put("frozen/a", "1"));
  absl::StatusOr<Lease> lease = connected->LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status();

  ASSERT_OK(etcd_->Pause(0));
  struct Resume {
    ~Resume() { (void)etcd_->Resume(0); }
  } resume;
  auto expect_timeout = [](const absl::Status& status,
                           steady_clock::time_point start) {
    EXPECT_THAT(status.code(), AnyOf(absl::StatusCode::kDeadlineExceeded,
                                     absl::StatusCode::kUnavailable))
        << status;
    EXPECT_LT(Since(start), milliseconds(1500)) << status;
  };
  auto start = steady_clock::now();
  expect_timeout(connected->Put("frozen/a", "2"), start);
  start = steady_clock::now();
  expect_timeout(connected->LeaseKeepAliveOnce(lease->id).status(), start);
  std::unique_ptr<EtcdClient> fresh = ConnectEtcd(options);
  start = steady_clock::now();
  absl::Status status = fresh->Get("frozen/a").status();
  expect_timeout(status, start);
  EXPECT_THAT(status.message(), HasSubstr(etcd_->ClientUrl(0)));

  ASSERT_OK(etcd_->Resume(0));
  EXPECT_TRUE(Eventually([&] { return connected->Put("frozen/a", "3").ok(); },
                         milliseconds(5000)));
  EXPECT_TRUE(Eventually([&] { return fresh->Get("frozen/a").ok(); },
                         milliseconds(5000)));
  ASSERT_OK(connected->LeaseRevoke(lease->id));
}

TEST_F(EtcdClientTest, RecoversWhenItsOnlyMemberRestarts) {
  ASSERT_OK(client_->Put("restart/a", "1"));
  ASSERT_OK(etcd_->Kill(0));
  const auto start = steady_clock::now();
  absl::Status status = client_->Put("restart/a", "2");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_LT(Since(start), milliseconds(2500)) << status;
  ASSERT_OK(etcd_->Restart(0));
  // gRPC reconnects in the background within its (short) backoff.
  EXPECT_TRUE(Eventually([&] { return client_->Put("restart/a", "3").ok(); },
                         milliseconds(3000)));
  absl::StatusOr<std::optional<KeyValue>> kv = client_->Get("restart/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  EXPECT_EQ((*kv)->value, "3");
}

TEST_F(EtcdClientTest, OneClientServesManyThreads) {
  absl::StatusOr<Lease> lease = client_->LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status();
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 25;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const std::string key =
            "threads/" + std::to_string(t) + "/" + std::to_string(i);
        if (!client_->Put(key, "v", lease->id).ok()) ++failures[t];
        if (!client_->LeaseKeepAliveOnce(lease->id).ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ::testing::Each(0));
  absl::StatusOr<std::vector<KeyValue>> listed = client_->GetPrefix("threads/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, SizeIs(kThreads * kCallsPerThread));
  ASSERT_OK(client_->LeaseRevoke(lease->id));
}

TEST(EtcdClusterTest, KeepsWorkingWithOneMemberKilled) {
  EtcdLauncherOptions options;
  options.members = 3;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<EtcdClient> client = ConnectEtcd(etcd->ClientUrls());
  ASSERT_OK(client->Put("cluster/a", "1"));
  absl::StatusOr<Lease> lease = client->LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(client->CurrentEndpoint(), etcd->ClientUrl(0));

  ASSERT_OK(etcd->Kill(0));
  // A new leader may take an election timeout; calls fail over meanwhile.
  EXPECT_TRUE(Eventually([&] { return client->Put("cluster/a", "2").ok(); },
                         milliseconds(5000)));
  EXPECT_NE(client->CurrentEndpoint(), etcd->ClientUrl(0));
  absl::StatusOr<int64_t> renewed = client->LeaseKeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 30);
  absl::StatusOr<std::optional<KeyValue>> kv = client->Get("cluster/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  EXPECT_EQ((*kv)->value, "2");

  // Bring it back and lose another: the restarted member serves again.
  ASSERT_OK(etcd->Restart(0));
  const int current = client->CurrentEndpoint() == etcd->ClientUrl(1) ? 1 : 2;
  ASSERT_OK(etcd->Kill(current));
  EXPECT_TRUE(Eventually([&] { return client->Put("cluster/a", "3").ok(); },
                         milliseconds(5000)));
  kv = client->Get("cluster/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  EXPECT_EQ((*kv)->value, "3");
  ASSERT_OK(client->LeaseRevoke(lease->id));
}

// Makes a call every 150 ms on its own thread, like the lease's keep-alive
// loop, and remembers the outcome of each.
class CallLoop {
 public:
  explicit CallLoop(std::function<absl::Status()> call)
      : call_(std::move(call)), thread_([this] { Run(); }) {}
  ~CallLoop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // Whether a call that starts from now on succeeds within `timeout`.
  bool SucceedsWithin(milliseconds timeout) {
    const auto start = steady_clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout,
                             [&] { return last_success_start_ >= start; });
  }
  std::string LastError() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      const auto start = steady_clock::now();
      absl::Status status = call_();
      lock.lock();
      if (status.ok()) {
        last_success_start_ = start;
      } else {
        last_error_ = status.ToString();
      }
      changed_.notify_all();
      changed_.wait_for(lock, milliseconds(150), [&] { return stop_; });
    }
  }

  const std::function<absl::Status()> call_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;
  steady_clock::time_point last_success_start_;
  std::string last_error_;
  std::thread thread_;
};

// The reported failure: a keep-alive loop with the lease's timeouts, and
// members that stop for a while and come back on the same ports.
class EtcdReconnectTest : public ::testing::Test {
 protected:
  void StartCluster(int members) {
    EtcdLauncherOptions options;
    options.members = members;
    etcd_ = StartEtcd(options);
    ASSERT_NE(etcd_, nullptr);
    Options client_options;
    client_options.endpoints = etcd_->ClientUrls();
    client_options.timeout = milliseconds(1600);
    client_options.dial_timeout = milliseconds(1600);
    client_ = ConnectEtcd(client_options);
    ASSERT_NE(client_, nullptr);
    absl::StatusOr<Lease> lease = client_->LeaseGrant(60);
    ASSERT_TRUE(lease.ok()) << lease.status();
    loop_ = std::make_unique<CallLoop>([this, id = lease->id] {
      return client_->LeaseKeepAliveOnce(id).status();
    });
    ASSERT_TRUE(loop_->SucceedsWithin(milliseconds(3000)));
  }
  // Stops member `i` for `down`, starts it again, and expects calls to
  // succeed again within a few seconds.
  void Bounce(int i, milliseconds down) {
    SCOPED_TRACE(i);
    ASSERT_OK(etcd_->Kill(i));
    std::this_thread::sleep_for(down);
    ASSERT_OK(etcd_->Restart(i));
    EXPECT_TRUE(loop_->SucceedsWithin(milliseconds(5000)))
        << "last error: " << loop_->LastError();
    // And a call on a fresh thread, not only the loop's.
    EXPECT_TRUE(Eventually([&] { return client_->Put("bounce/a", "1").ok(); },
                           milliseconds(3000)));
  }
  void TearDown() override { loop_.reset(); }

  std::unique_ptr<EtcdLauncher> etcd_;
  std::unique_ptr<EtcdClient> client_;
  std::unique_ptr<CallLoop> loop_;
};

TEST_F(EtcdReconnectTest, CallsSucceedAgainAfterTheOnlyMemberRestarts) {
  StartCluster(1);
  Bounce(0, milliseconds(3000));
  Bounce(0, milliseconds(3000));
}

TEST_F(EtcdReconnectTest, CallsSucceedAgainAfterALongOutage) {
  StartCluster(1);
  Bounce(0, milliseconds(11000));
}

TEST_F(EtcdReconnectTest, CallsSucceedAfterEveryMemberRestartedInTurn) {
  StartCluster(3);
  for (int i = 0; i < 3; ++i) Bounce(i, milliseconds(3000));
  // Every member was restarted once; each must serve again on its own.
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    Options options;
    options.endpoints = {etcd_->ClientUrl(i)};
    std::unique_ptr<EtcdClient> single = ConnectEtcd(options);
    EXPECT_TRUE(Eventually([&] { return single->Get("bounce/a").ok(); },
                           milliseconds(3000)));
  }
}

TEST(EtcdHeaderTest, EverySuccessfulCallReportsItsHeader) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  std::mutex mu;
  std::vector<ResponseHeader> headers;
  Options options;
  options.endpoints = etcd->ClientUrls();
  options.on_header = [&](const ResponseHeader& header) {
    std::lock_guard<std::mutex> lock(mu);
    headers.push_back(header);
  };
  std::unique_ptr<EtcdClient> client = ConnectEtcd(options);
  ASSERT_NE(client, nullptr);
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return headers.size();
  };
  auto last = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return headers.empty() ? ResponseHeader{} : headers.back();
  };

  ASSERT_OK(client->Put("header/a", "1"));
  ASSERT_EQ(count(), 1u);
  const ResponseHeader first = last();
  EXPECT_NE(first.cluster_id, 0u);
  EXPECT_NE(first.member_id, 0u);
  EXPECT_GT(first.raft_term, 0u);
  EXPECT_GT(first.revision, 0);
  ASSERT_OK(client->Put("header/a", "2"));
  EXPECT_EQ(last().revision, first.revision + 1);

  // Each call reports exactly one header, from the same cluster, at the
  // current revision.
  int64_t revision = first.revision + 1;
  auto expect_one = [&](const char* what, bool ok, int64_t revision_step) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(ok);
    revision += revision_step;
    EXPECT_EQ(last().cluster_id, first.cluster_id);
    EXPECT_EQ(last().revision, revision);
  };
  size_t before = count();
  expect_one("Get", client->Get("header/a").ok(), 0);
  expect_one("GetPrefix", client->GetPrefix("header/").ok(), 0);
  Transaction txn;
  txn.success.push_back(Op::Put("header/b", "1"));
  expect_one("Txn", client->Txn(txn).ok(), 1);
  expect_one("Delete", client->Delete("header/b").ok(), 1);
  absl::StatusOr<Lease> lease = client->LeaseGrant(30);
  expect_one("LeaseGrant", lease.ok(), 0);
  expect_one("LeaseKeepAliveOnce", client->LeaseKeepAliveOnce(lease->id).ok(),
             0);
  expect_one("LeaseTimeToLive", client->LeaseTimeToLive(lease->id).ok(), 0);
  expect_one("LeaseRevoke", client->LeaseRevoke(lease->id).ok(), 0);
  EXPECT_EQ(count(), before + 8);

  // A failed call reports nothing.
  before = count();
  EXPECT_FALSE(client->LeaseRevoke(lease->id).ok());
  EXPECT_EQ(count(), before);

  // Watch responses report theirs (the creation's at least).
  absl::StatusOr<std::unique_ptr<KeyWatch>> watch =
      client->Watch("header/a", 0, [](const WatchEvent&) {});
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_GT(count(), before);
  EXPECT_EQ(last().cluster_id, first.cluster_id);
  EXPECT_EQ(last().revision, revision);

  // Another client sees the same cluster.
  std::unique_ptr<EtcdClient> other = ConnectEtcd(options);
  ASSERT_OK(other->Put("header/a", "3"));
  EXPECT_EQ(last().cluster_id, first.cluster_id);
  EXPECT_EQ(last().revision, revision + 1);
}

TEST(EtcdTlsTest, WorksWithTheRightCertificatesAndFailsClearlyWithout) {
  EtcdLauncherOptions launcher_options;
  launcher_options.tls = true;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(launcher_options);
  ASSERT_NE(etcd, nullptr);
  const auto& files = etcd->tls_files();

  Options options;
  options.endpoints = etcd->ClientUrls();
  options.timeout = milliseconds(2000);
  options.dial_timeout = milliseconds(1000);
  options.tls =
      TlsOptions{files.ca_file, files.client_cert_file, files.client_key_file};
  std::unique_ptr<EtcdClient> client = ConnectEtcd(options);
  ASSERT_OK(client->Put("tls/a", "1"));
  absl::StatusOr<std::optional<KeyValue>> kv = client->Get("tls/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  absl::StatusOr<Lease> lease = client->LeaseGrant(5);
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(client->LeaseKeepAliveOnce(lease->id).ok());

  const std::string url = etcd->ClientUrl(0);
  const std::string host_port = url.substr(url.find("127.0.0.1:"));
  auto expect_refused = [&](Options bad, const char* what, const char* hint) {
    SCOPED_TRACE(what);
    std::unique_ptr<EtcdClient> rejected = ConnectEtcd(std::move(bad));
    ASSERT_NE(rejected, nullptr);
    const auto start = steady_clock::now();
    absl::Status status = rejected->Put("tls/b", "1");
    EXPECT_THAT(status.code(), AnyOf(absl::StatusCode::kUnavailable,
                                     absl::StatusCode::kDeadlineExceeded))
        << status;
    EXPECT_THAT(status.message(), HasSubstr(host_port)) << status;
    EXPECT_THAT(status.message(), HasSubstr(hint)) << status;
    EXPECT_LT(Since(start), milliseconds(3500)) << status;
  };
  Options no_client_cert = options;
  no_client_cert.tls = TlsOptions{files.ca_file, "", ""};
  expect_refused(no_client_cert, "CA but no client certificate",
                 "check the CA file");
  Options system_roots = options;
  system_roots.tls = TlsOptions{};
  expect_refused(system_roots, "system roots do not know the test CA",
                 "check the CA file");
  Options plain = options;
  plain.tls.reset();
  plain.endpoints = {"http://" + host_port};
  expect_refused(plain, "plain text to a TLS port", "want https://");

  Options missing_file = options;
  missing_file.tls->ca_file = etcd->dir() + "/absent.crt";
  absl::StatusOr<std::unique_ptr<EtcdClient>> unreadable =
      EtcdClient::Create(missing_file);
  EXPECT_EQ(unreadable.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unreadable.status().message(), HasSubstr("absent.crt"));
}

TEST(EtcdAuthTest, AuthenticatesWithUsernameAndPassword) {
  EtcdLauncherOptions launcher_options;
  // Tokens expire after 1 s idle, so the test sees the client renew one.
  launcher_options.extra_flags = {"--auth-token-ttl", "1"};
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(launcher_options);
  ASSERT_NE(etcd, nullptr);
  absl::StatusOr<std::string> out = etcd->Etcdctl({"user", "add", "root:pw1"});
  ASSERT_TRUE(out.ok()) << out.status();
  out = etcd->Etcdctl({"auth", "enable"});
  ASSERT_TRUE(out.ok()) << out.status();

  Options options;
  options.endpoints = etcd->ClientUrls();
  options.timeout = milliseconds(2000);
  options.dial_timeout = milliseconds(1000);
  options.username = "root";
  options.password = "pw1";
  std::unique_ptr<EtcdClient> client = ConnectEtcd(options);
  ASSERT_OK(client->Put("auth/a", "1"));
  absl::StatusOr<std::optional<KeyValue>> kv = client->Get("auth/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  absl::StatusOr<Lease> lease = client->LeaseGrant(5);
  ASSERT_TRUE(lease.ok()) << lease.status();
  absl::StatusOr<int64_t> renewed = client->LeaseKeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 5);
  ASSERT_OK(client->LeaseRevoke(lease->id));
  std::this_thread::sleep_for(milliseconds(2500));
  ASSERT_OK(client->Put("auth/a", "1"));

  Options wrong = options;
  wrong.password = "nope";
  absl::Status status = ConnectEtcd(wrong)->Put("auth/a", "2");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("authenticating as \"root\""));
  EXPECT_THAT(status.message(), HasSubstr(etcd->ClientUrl(0)));

  Options anonymous = options;
  anonymous.username.clear();
  anonymous.password.clear();
  status = ConnectEtcd(anonymous)->Put("auth/a", "2");
  EXPECT_FALSE(status.ok());
  kv = client->Get("auth/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  EXPECT_EQ((*kv)->value, "1");
}

TEST(EtcdClientOptionsTest, RejectsBadOptions) {
  Options options;
  EXPECT_EQ(EtcdClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.endpoints = {"http://127.0.0.1:2379", "bogus"};
  absl::Status status = EtcdClient::Create(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bogus"));
  options.endpoints = {"http://127.0.0.1:2379"};
  options.tls = TlsOptions{};
  status = EtcdClient::Create(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  options.endpoints = {"https://127.0.0.1:2379"};
  options.tls->cert_file = "/some/cert.pem";
  EXPECT_EQ(EtcdClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace snowflake::etcd
