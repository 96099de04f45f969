// ZooKeeperLease against a real ZooKeeper (Debian's zookeeper, started per
// test): what is particular to ZooKeeper's mapping. What both coordinators
// share runs on both in src/lease/cluster_lease_test.cc.
#include "src/lease/zookeeper/zookeeper_lease.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/cluster_schema.h"
#include "src/zookeeper/zookeeper_client.h"
#include "testing/zookeeper_launcher.h"

namespace snowflake {
namespace {

using ::snowflake::testing::ZooKeeperLauncher;
using ::testing::HasSubstr;
namespace schema = cluster_schema;

class ZooKeeperLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto zk = ZooKeeperLauncher::Start();
    ASSERT_TRUE(zk.ok()) << zk.status();
    zk_ = *std::move(zk);
  }

  ZooKeeperLeaseOptions Options(const std::string& node, int64_t first = 0,
                                int64_t last = 1023) {
    ZooKeeperLeaseOptions options;
    options.hosts = zk_->ConnectString();
    options.cluster = "test";
    options.range_first = first;
    options.range_last = last;
    options.ttl_seconds = 2;
    options.node_name = node;
    options.addresses = {"127.0.0.1:1"};
    options.state_dir = zk_->dir() + "/state-" + node;
    return options;
  }

  std::unique_ptr<ZooKeeperLease> Make(ZooKeeperLeaseOptions options) {
    auto lease = ZooKeeperLease::Create(std::move(options));
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *std::move(lease) : nullptr;
  }

  std::unique_ptr<zookeeper::ZooKeeperClient> Client(std::string auth = "") {
    zookeeper::ZooKeeperOptions options;
    options.hosts = zk_->ConnectString();
    options.digest_auth = std::move(auth);
    auto client = zookeeper::ZooKeeperClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  static std::string ClaimPath(int64_t id) {
    return schema::WorkerKey("/snowflake", "test", id);
  }

  // Waits up to `limit` for `lease` to report its claim lost.
  static bool AwaitLost(WorkerLease& lease, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!lease.Lost() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return lease.Lost();
  }

  std::unique_ptr<ZooKeeperLauncher> zk_;
};

TEST_F(ZooKeeperLeaseTest,
       ClaimsAreEphemeralZnodesOfTheSessionAndReleaseFrees) {
  auto a = Make(Options("a", 4, 5));
  auto b = Make(Options("b", 4, 5));
  auto c = Make(Options("c", 4, 5));
  auto ga = a->Acquire();
  auto gb = b->Acquire();
  ASSERT_TRUE(ga.ok()) << ga.status();
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_NE(ga->worker_id, gb->worker_id);
  EXPECT_EQ(a->Info().mode, "zookeeper");
  auto claim = Client()->Get(ClaimPath(ga->worker_id));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_NE(claim->stat.ephemeral_owner, 0);
  EXPECT_EQ(schema::DecodeHolder(claim->value)->node, "a");
  EXPECT_EQ(schema::DecodeHolder(claim->value)->lease,
            claim->stat.ephemeral_owner);
  auto gc = c->Acquire();
  ASSERT_FALSE(gc.ok());
  EXPECT_EQ(gc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(gc.status().message(),
              HasSubstr("no free worker ID in range 4-5"));
  ASSERT_TRUE(a->Release().ok());
  gc = c->Acquire();
  ASSERT_TRUE(gc.ok()) << gc.status();
  EXPECT_EQ(gc->worker_id, ga->worker_id);
}

TEST_F(ZooKeeperLeaseTest, ClaimRemadeByAnotherSessionFailsTheOldHoldersStore) {
  auto a = Make(Options("a", 3, 3));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(grant->coordinator_store->Store(1000).ok());
  // The intruder claims ID 3 with a session of its own, as a node would.
  auto intruder = Client();
  ASSERT_TRUE(intruder->Delete(ClaimPath(3), zookeeper::kAnyVersion).ok());
  schema::Holder holder;
  holder.node = "intruder";
  holder.worker_id = 3;
  holder.lease = intruder->session_id();
  ASSERT_TRUE(intruder
                  ->Create(ClaimPath(3), schema::EncodeHolder(holder),
                           zookeeper::CreateMode::kEphemeral)
                  .ok());
  // Whether the watch or the store sees it first, the store must fail and
  // leave a loss behind.
  absl::Status stored = grant->coordinator_store->Store(2000);
  EXPECT_EQ(stored.code(), absl::StatusCode::kFailedPrecondition) << stored;
  EXPECT_TRUE(AwaitLost(*a, std::chrono::seconds(1)));
  EXPECT_FALSE(a->Valid());
}

TEST_F(ZooKeeperLeaseTest, MissingChrootAndForeignCredentialsAreNamed) {
  ZooKeeperLeaseOptions chrooted = Options("a");
  chrooted.hosts += "/missing";
  auto a = Make(chrooted);
  auto grant = a->Acquire();
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(grant.status().message(), HasSubstr("chroot /missing"));
  EXPECT_THAT(grant.status().message(), HasSubstr("--zookeeper-hosts"));
  // With the chroot made, the same node works under it.
  ASSERT_TRUE(Client()
                  ->Create("/missing", "", zookeeper::CreateMode::kPersistent)
                  .ok());
  grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_TRUE(Client()->Exists("/missing/snowflake/test/config")->has_value());

  // A cluster made by one user is closed to another.
  ZooKeeperLeaseOptions owner = Options("b");
  owner.cluster = "private";
  owner.auth = "alice:secret";
  auto b = Make(owner);
  ASSERT_TRUE(b->Acquire().ok());
  ZooKeeperLeaseOptions stranger = Options("c");
  stranger.cluster = "private";
  stranger.auth = "mallory:guess";
  auto c = Make(stranger);
  grant = c->Acquire();
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kPermissionDenied)
      << grant.status();
  EXPECT_THAT(grant.status().message(), HasSubstr("--zookeeper-auth"));
}

// An ensemble restored from a snapshot taken before the claim refuses the
// node's session (it saw newer transactions): the client is CONNECTING for
// ever and no keep-alive reaches the server. Asked through a fresh session,
// the ensemble says the claim is gone: lost, and acquired again.
TEST_F(ZooKeeperLeaseTest, EnsembleRestoredFromAnOlderSnapshotIsFound) {
  namespace fs = std::filesystem;
  const std::string data = zk_->dir() + "/zk1.data";
  const std::string backup = zk_->dir() + "/zk1.backup";
  {
    // The cluster exists in the snapshot; the claim will not.
    auto first = Make(Options("first", 7, 7));
    ASSERT_TRUE(first->Acquire().ok());
    ASSERT_TRUE(first->Release().ok());
  }
  ASSERT_TRUE(zk_->Kill(0).ok());
  fs::copy(data, backup, fs::copy_options::recursive);
  ASSERT_TRUE(zk_->Restart(0).ok());

  auto a = Make(Options("a", 0, 1));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  for (int i = 1; i <= 5; ++i) {  // Transactions the snapshot lacks.
    ASSERT_TRUE(grant->coordinator_store->Store(int64_t{1000} * i).ok());
  }
  ASSERT_TRUE(zk_->Kill(0).ok());
  fs::remove_all(data);
  fs::rename(backup, data);
  ASSERT_TRUE(zk_->Restart(0).ok());

  EXPECT_TRUE(AwaitLost(*a, std::chrono::seconds(10)));
  EXPECT_THAT(a->Info().lost_reason, HasSubstr("session"));
  auto again = a->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(a->Valid() || again->takeover_wait_millis > 0);
}

TEST_F(ZooKeeperLeaseTest, BadOptionsAreRejected) {
  ZooKeeperLeaseOptions options = Options("a");
  options.hosts.clear();
  EXPECT_EQ(ZooKeeperLease::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options("a");
  options.root = "snowflake";
  EXPECT_THAT(ZooKeeperLease::Create(options).status().message(),
              HasSubstr("must start with /"));
  options = Options("a");
  options.auth = "no-colon";
  EXPECT_THAT(ZooKeeperLease::Create(options).status().message(),
              HasSubstr("user:password"));
  options = Options("a", 5, 2000);
  EXPECT_THAT(ZooKeeperLease::Create(options).status().message(),
              HasSubstr("worker range 5-2000"));
}

}  // namespace
}  // namespace snowflake
