// EtcdLease against a real etcd (Debian's etcd-server, started per test).
#include "src/lease/etcd/etcd_lease.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/etcd/etcd_schema.h"
#include "testing/etcd_launcher.h"

namespace snowflake {
namespace {

using ::snowflake::testing::EtcdLauncher;
using ::testing::HasSubstr;

class EtcdLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = EtcdLauncher::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }

  EtcdLeaseOptions Options(const std::string& node, int64_t first = 0,
                           int64_t last = 1023) {
    EtcdLeaseOptions options;
    options.client.endpoints = etcd_->ClientUrls();
    options.cluster = "test";
    options.range_first = first;
    options.range_last = last;
    options.ttl_seconds = 2;
    options.node_name = node;
    options.addresses = {"127.0.0.1:1"};
    options.state_dir = etcd_->dir() + "/state-" + node;
    return options;
  }

  std::unique_ptr<EtcdLease> Make(EtcdLeaseOptions options) {
    auto lease = EtcdLease::Create(std::move(options));
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *std::move(lease) : nullptr;
  }

  std::unique_ptr<etcd::EtcdClient> Client() {
    etcd::Options options;
    options.endpoints = etcd_->ClientUrls();
    return std::move(*etcd::EtcdClient::Create(options));
  }

  std::unique_ptr<EtcdLauncher> etcd_;
};

TEST_F(EtcdLeaseTest, NodesGetDistinctIdsAndARangeRunsOut) {
  auto a = Make(Options("a", 4, 5));
  auto b = Make(Options("b", 4, 5));
  auto c = Make(Options("c", 4, 5));
  auto ga = a->Acquire();
  auto gb = b->Acquire();
  ASSERT_TRUE(ga.ok() && gb.ok());
  EXPECT_NE(ga->worker_id, gb->worker_id);
  EXPECT_TRUE(a->Valid());
  auto gc = c->Acquire();
  ASSERT_FALSE(gc.ok());
  EXPECT_EQ(gc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(gc.status().message(),
              HasSubstr("no free worker ID in range 4-5"));
  EXPECT_THAT(gc.status().message(), HasSubstr("by a"));
  EXPECT_FALSE(c->Valid());
  EXPECT_EQ(c->Info().acquire_conflicts, 0u);  // Nothing was even tried.
  // Release frees the ID at once.
  ASSERT_TRUE(a->Release().ok());
  gc = c->Acquire();
  ASSERT_TRUE(gc.ok()) << gc.status();
  EXPECT_EQ(gc->worker_id, ga->worker_id);
}

TEST_F(EtcdLeaseTest, LayoutMismatchNamesBothLayouts) {
  auto a = Make(Options("a"));
  ASSERT_TRUE(a->Acquire().ok());
  EtcdLeaseOptions other = Options("b");
  other.layout = *Layout::Parse("40/10/13");
  auto b = Make(other);
  auto grant = b->Acquire();
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(grant.status().message(), HasSubstr(Layout().ToString()));
  EXPECT_THAT(grant.status().message(), HasSubstr(other.layout.ToString()));
}

TEST_F(EtcdLeaseTest, KeepAliveHoldsTheLeasePastItsTtl) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  EXPECT_TRUE(a->Valid());
  EXPECT_FALSE(a->Lost());
  EXPECT_GT(a->Info().expires_in_millis, 0);
  auto kv = Client()->Get(
      etcd_schema::WorkerKey("/snowflake", "test", grant->worker_id));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ(etcd_schema::DecodeHolder((*kv)->value)->node, "a");
}

TEST_F(EtcdLeaseTest, HwmStoreHoldsOnlyWhileTheClaimIsOurs) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  ASSERT_TRUE(grant->hwm_store->Store(1000).ok());
  EXPECT_EQ(grant->hwm_store->Load()->value(), 1000);
  // Someone deletes the claim (an operator, or etcd expiring it): the next
  // store must fail and the lease must report itself lost.
  ASSERT_TRUE(Client()
                  ->Delete(etcd_schema::WorkerKey("/snowflake", "test",
                                                  grant->worker_id))
                  .ok());
  absl::Status s = grant->hwm_store->Store(2000);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(a->Lost());
  EXPECT_FALSE(a->Valid());
  EXPECT_EQ(grant->coordinator_store->Load()->value(), 1000);
  // The local floor took the mark first: it never runs below what the
  // generator could have been allowed.
  EXPECT_EQ(grant->hwm_store->Load()->value(), 2000);
}

TEST_F(EtcdLeaseTest, HwmStoreIsCompareAndSetAndNeverLowersAnotherMark) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  HwmStore& store = *grant->coordinator_store;
  ASSERT_TRUE(store.Store(5000).ok());
  // Another writer (`snowflake cluster fence-restore`) raises it meanwhile.
  const std::string key =
      etcd_schema::HwmKey("/snowflake", "test", grant->worker_id);
  ASSERT_TRUE(Client()->Put(key, etcd_schema::EncodeHwm(9000)).ok());
  // A lower mark is not written over it, yet the fence holds (9000 > 6000).
  ASSERT_TRUE(store.Store(6000).ok());
  EXPECT_EQ(store.Load()->value(), 9000);
  // A higher one goes in on the revision just learned.
  ASSERT_TRUE(store.Store(12000).ok());
  EXPECT_EQ(store.Load()->value(), 12000);
  EXPECT_TRUE(a->Valid());
}

TEST_F(EtcdLeaseTest, DeletedClaimStopsIssuingWithin100Ms) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  ASSERT_TRUE(a->Valid());
  auto client = Client();
  const auto deleted = std::chrono::steady_clock::now();
  ASSERT_TRUE(client
                  ->Delete(etcd_schema::WorkerKey("/snowflake", "test",
                                                  grant->worker_id))
                  .ok());
  while (a->Valid() &&
         std::chrono::steady_clock::now() - deleted < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const auto took = std::chrono::steady_clock::now() - deleted;
  EXPECT_FALSE(a->Valid());
  EXPECT_LT(took, std::chrono::milliseconds(100));
  EXPECT_THAT(a->Info().lost_reason, HasSubstr("was deleted"));
  EXPECT_EQ(a->Info().claims_lost, 1u);
}

TEST_F(EtcdLeaseTest, ReacquiringItsOwnIdWithItsOwnMarkNeedsNoWait) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  EXPECT_FALSE(grant->own_mark);
  EXPECT_EQ(grant->takeover_wait_millis, 0);
  ASSERT_TRUE(grant->hwm_store->Store(4000).ok());
  auto kv = Client()->Get(
      etcd_schema::WorkerKey("/snowflake", "test", grant->worker_id));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  ASSERT_TRUE(Client()->LeaseRevoke((*kv)->lease).ok());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!a->Lost() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(a->Lost());
  auto again = a->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->worker_id, grant->worker_id);
  EXPECT_TRUE(again->own_mark);  // Nobody wrote the mark since.
  EXPECT_EQ(again->takeover_wait_millis, 0);
}

TEST_F(EtcdLeaseTest, TakingOverAnIdWithHistoryWaitsOneKeepAliveAndTheSkew) {
  ASSERT_TRUE(Client()
                  ->Put(etcd_schema::HwmKey("/snowflake", "test", 3),
                        etcd_schema::EncodeHwm(1000))
                  .ok());
  EtcdLeaseOptions options = Options("a", 3, 3);
  options.max_clock_skew_millis = 700;
  auto a = Make(options);
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->worker_id, 3);
  EXPECT_FALSE(grant->own_mark);
  // TTL 2 s: keep-alive every 666 ms, margin 200 ms, skew 700 ms.
  EXPECT_EQ(grant->takeover_wait_millis, 666 + 200 + 700);
  EXPECT_EQ(EtcdLease::TakeoverWaitMillis(2, 700), 1566);
  // Its own last ID next time: no takeover wait.
  ASSERT_TRUE(a->Release().ok());
  auto a2 = Make(options);
  auto again = a2->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->takeover_wait_millis, 0);
}

TEST_F(EtcdLeaseTest, RegionMapMismatchNamesBothMaps) {
  EtcdLeaseOptions options = Options("a");
  options.regions = *RegionMap::Parse("us=0-511,eu=512-1023");
  auto a = Make(options);
  ASSERT_TRUE(a->Acquire().ok());
  options = Options("b");
  options.regions = *RegionMap::Parse("us=0-340,eu=341-1023");
  auto b = Make(options);
  auto gb = b->Acquire();
  ASSERT_FALSE(gb.ok());
  EXPECT_EQ(gb.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(gb.status().message(), HasSubstr("eu=512-1023,us=0-511"));
  EXPECT_THAT(gb.status().message(), HasSubstr("eu=341-1023,us=0-340"));
  // A node without a map is refused too: the maps differ.
  auto c = Make(Options("c"));
  EXPECT_EQ(c->Acquire().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EtcdLeaseTest, RevokedLeaseIsDetectedAndReacquired) {
  auto a = Make(Options("a", 0, 1));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  auto kv = Client()->Get(
      etcd_schema::WorkerKey("/snowflake", "test", grant->worker_id));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  ASSERT_TRUE(Client()->LeaseRevoke((*kv)->lease).ok());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!a->Lost() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(a->Lost());
  EXPECT_FALSE(a->Valid());
  auto again = a->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->worker_id, grant->worker_id);  // Its identity file.
  EXPECT_TRUE(a->Valid());
  EXPECT_EQ(a->Info().acquisitions, 2u);
}

TEST_F(EtcdLeaseTest, UnreachableIsNotLost) {
  auto a = Make(Options("a"));
  ASSERT_TRUE(a->Acquire().ok());
  ASSERT_TRUE(etcd_->Pause(0).ok());
  const auto paused = std::chrono::steady_clock::now();
  while (!a->Info().presumed_expired &&
         std::chrono::steady_clock::now() - paused < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Past the deadline (before the 2 s TTL could run out at etcd) the lease
  // is presumed expired, but the node may still issue below its HWM.
  EXPECT_TRUE(a->Info().presumed_expired);
  EXPECT_LT(std::chrono::steady_clock::now() - paused,
            std::chrono::milliseconds(2000));
  EXPECT_TRUE(a->Valid());
  EXPECT_FALSE(a->Lost());
  EXPECT_FALSE(a->Info().coordinator_up);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(a->Valid());
  ASSERT_TRUE(etcd_->Resume(0).ok());
  const auto resumed = std::chrono::steady_clock::now();
  while (a->Info().presumed_expired && !a->Lost() &&
         std::chrono::steady_clock::now() - resumed <
             std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Either the lease survived (etcd extends leases after a pause) and is
  // renewed, or etcd expired it and the lease says so.
  EXPECT_TRUE(!a->Info().presumed_expired || a->Lost());
  EXPECT_GT(a->Info().renew_failures, 0u);
}

TEST_F(EtcdLeaseTest, PrefersItsLastWorkerIdThenTheOldestMark) {
  auto client = Client();
  // IDs 0-2: 0 has a recent mark, 1 an old one, 2 none.
  ASSERT_TRUE(client
                  ->Put(etcd_schema::HwmKey("/snowflake", "test", 0),
                        etcd_schema::EncodeHwm(2000))
                  .ok());
  ASSERT_TRUE(client
                  ->Put(etcd_schema::HwmKey("/snowflake", "test", 1),
                        etcd_schema::EncodeHwm(1000))
                  .ok());
  auto a = Make(Options("a", 0, 2));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->worker_id, 2);  // No mark at all is the oldest.
  ASSERT_TRUE(a->Release().ok());
  auto b = Make(Options("b", 0, 2));
  auto gb = b->Acquire();
  ASSERT_TRUE(gb.ok());
  EXPECT_EQ(gb->worker_id, 2);
  ASSERT_TRUE(b->Release().ok());
  // "a" remembers 2 even though 1's mark is older... and 2 is free again.
  EtcdLeaseOptions again = Options("a", 0, 2);
  auto a2 = Make(again);
  auto g2 = a2->Acquire();
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(g2->worker_id, 2);
  // A node with no identity takes the oldest mark among the free: 1 (both
  // have history, so both cost a takeover wait).
  auto c = Make(Options("c", 0, 2));
  auto gc = c->Acquire();
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->worker_id, 1);
}

TEST_F(EtcdLeaseTest, BadOptionsAreRejected) {
  EtcdLeaseOptions options = Options("a", 5, 2000);
  EXPECT_THAT(EtcdLease::Create(options).status().message(),
              HasSubstr("within 0-1023"));
  options = Options("a");
  options.ttl_seconds = 0;
  EXPECT_FALSE(EtcdLease::Create(options).ok());
  options = Options("");
  EXPECT_FALSE(EtcdLease::Create(options).ok());
}

}  // namespace
}  // namespace snowflake
