// The lease protocol on both coordinators, each a real server started per
// test (testing/coordinator_backend.h): every test runs on etcd and on
// ZooKeeper, so each guarantee is checked where it must hold, not on one
// backend alone. What only one coordinator has is tested beside it
// (src/lease/zookeeper/zookeeper_lease_test.cc).
#include "src/lease/protocol/cluster_lease.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/coordinator_backend.h"

namespace snowflake {
namespace {

using ::snowflake::testing::CoordinatorBackend;
using ::snowflake::testing::CoordinatorKind;
using ::snowflake::testing::KindName;
using ::testing::HasSubstr;

class ClusterLeaseTest : public ::testing::TestWithParam<CoordinatorKind> {
 protected:
  void SetUp() override {
    backend_ = CoordinatorBackend::Start(GetParam(), 1);
    ASSERT_NE(backend_, nullptr);
  }

  ClusterLeaseOptions Options(const std::string& node, int64_t first = 0,
                              int64_t last = 1023) {
    ClusterLeaseOptions options;
    options.cluster = "test";
    options.range_first = first;
    options.range_last = last;
    options.ttl_seconds = 2;
    options.node_name = node;
    options.addresses = {"127.0.0.1:1"};
    options.state_dir = backend_->dir() + "/state-" + node;
    return options;
  }

  std::unique_ptr<ClusterLease> Make(ClusterLeaseOptions options) {
    auto lease = backend_->MakeLease(std::move(options), SystemLeaseClock());
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *std::move(lease) : nullptr;
  }

  static bool AwaitLost(WorkerLease& lease, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!lease.Lost() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return lease.Lost();
  }

  // The node holding worker `id`, or "" when none (or no answer).
  std::string HolderOf(int64_t id) {
    auto claim = backend_->ReadClaim("test", id);
    return claim.ok() && claim->has_value() ? (*claim)->node : "";
  }

  // What a lease's loss reason says when its claim was deleted by hand.
  std::string DeletedReason() const {
    return GetParam() == CoordinatorKind::kEtcd ? "was deleted" : "is gone";
  }

  std::unique_ptr<CoordinatorBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Coordinators, ClusterLeaseTest,
                         ::testing::Values(CoordinatorKind::kEtcd,
                                           CoordinatorKind::kZooKeeper),
                         [](const auto& info) { return KindName(info.param); });

TEST_P(ClusterLeaseTest, NodesGetDistinctIdsAndARangeRunsOut) {
  auto a = Make(Options("a", 4, 5));
  auto b = Make(Options("b", 4, 5));
  auto c = Make(Options("c", 4, 5));
  auto ga = a->Acquire();
  auto gb = b->Acquire();
  ASSERT_TRUE(ga.ok()) << ga.status();
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_NE(ga->worker_id, gb->worker_id);
  EXPECT_TRUE(a->Valid());
  EXPECT_EQ(a->Info().mode, KindName(GetParam()));
  EXPECT_EQ(HolderOf(ga->worker_id), "a");
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

TEST_P(ClusterLeaseTest, LayoutMismatchNamesBothLayouts) {
  auto a = Make(Options("a"));
  ASSERT_TRUE(a->Acquire().ok());
  ClusterLeaseOptions other = Options("b");
  other.layout = *Layout::Parse("40/10/13");
  auto b = Make(other);
  auto grant = b->Acquire();
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(grant.status().message(), HasSubstr(Layout().ToString()));
  EXPECT_THAT(grant.status().message(), HasSubstr(other.layout.ToString()));
  EXPECT_THAT(grant.status().message(), HasSubstr("/snowflake/test/config"));
}

TEST_P(ClusterLeaseTest, RegionMapMismatchNamesBothMaps) {
  ClusterLeaseOptions options = Options("a");
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

TEST_P(ClusterLeaseTest, KeepAliveHoldsTheSessionPastItsTtl) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  EXPECT_TRUE(a->Valid());
  EXPECT_FALSE(a->Lost());
  EXPECT_GT(a->Info().expires_in_millis, 0);
  EXPECT_EQ(HolderOf(grant->worker_id), "a");
}

TEST_P(ClusterLeaseTest, HwmStoreHoldsOnlyWhileTheClaimIsOurs) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(grant->hwm_store->Store(1000).ok());
  EXPECT_EQ(grant->hwm_store->Load()->value(), 1000);
  EXPECT_EQ(HwmOf(*backend_, "test", grant->worker_id).value_or(0), 1000);
  // Someone deletes the claim (an operator, or the coordinator expiring
  // it): the next store must fail and the lease must report itself lost.
  ASSERT_TRUE(backend_->DeleteClaim("test", grant->worker_id).ok());
  absl::Status s = grant->hwm_store->Store(2000);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(a->Lost());
  EXPECT_FALSE(a->Valid());
  EXPECT_EQ(grant->coordinator_store->Load()->value(), 1000);
  // The local floor took the mark first: it never runs below what the
  // generator could have been allowed.
  EXPECT_EQ(grant->hwm_store->Load()->value(), 2000);
}

TEST_P(ClusterLeaseTest, HwmStoreIsCompareAndSetAndNeverLowersAnotherMark) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  HwmStore& store = *grant->coordinator_store;
  ASSERT_TRUE(store.Store(5000).ok());
  // Another writer (`snowflake cluster fence-restore`) raises it meanwhile.
  ASSERT_TRUE(backend_->PutHwm("test", grant->worker_id, 9000).ok());
  // A lower mark is not written over it, yet the fence holds (9000 > 6000).
  ASSERT_TRUE(store.Store(6000).ok());
  EXPECT_EQ(store.Load()->value(), 9000);
  // A higher one goes in on the version just learned.
  ASSERT_TRUE(store.Store(12000).ok());
  EXPECT_EQ(store.Load()->value(), 12000);
  EXPECT_EQ(HwmOf(*backend_, "test", grant->worker_id).value_or(0), 12000);
  EXPECT_TRUE(a->Valid());
}

TEST_P(ClusterLeaseTest, DeletedClaimStopsIssuingWithin100Ms) {
  auto a = Make(Options("a"));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(a->Valid());
  const auto deleted = std::chrono::steady_clock::now();
  ASSERT_TRUE(backend_->DeleteClaim("test", grant->worker_id).ok());
  EXPECT_TRUE(AwaitLost(*a, std::chrono::seconds(3)));
  const auto took = std::chrono::steady_clock::now() - deleted;
  EXPECT_FALSE(a->Valid());
  EXPECT_LT(took, std::chrono::milliseconds(100));
  EXPECT_THAT(a->Info().lost_reason, HasSubstr(DeletedReason()));
  EXPECT_EQ(a->Info().claims_lost, 1u);
}

TEST_P(ClusterLeaseTest, SessionEndedByTheCoordinatorIsLostAndReacquired) {
  auto a = Make(Options("a", 0, 1));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(grant->hwm_store->Store(4000).ok());
  ASSERT_TRUE(backend_->EndSession("test", grant->worker_id).ok());
  EXPECT_TRUE(AwaitLost(*a, std::chrono::seconds(5)));
  EXPECT_FALSE(a->Valid());
  auto again = a->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->worker_id, grant->worker_id);  // Its identity file.
  EXPECT_TRUE(again->own_mark);  // Nobody wrote the mark since.
  EXPECT_EQ(again->takeover_wait_millis, 0);
  EXPECT_TRUE(a->Valid());
  EXPECT_EQ(a->Info().acquisitions, 2u);
}

TEST_P(ClusterLeaseTest, TakingOverAnIdWithHistoryWaitsOneKeepAliveAndTheSkew) {
  ASSERT_TRUE(backend_->PutHwm("test", 3, 1000).ok());
  ClusterLeaseOptions options = Options("a", 3, 3);
  options.max_clock_skew_millis = 700;
  auto a = Make(options);
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->worker_id, 3);
  EXPECT_FALSE(grant->own_mark);
  // TTL 2 s: keep-alive every 666 ms, margin 200 ms, skew 700 ms.
  EXPECT_EQ(grant->takeover_wait_millis, 666 + 200 + 700);
  EXPECT_EQ(ClusterLease::TakeoverWaitMillis(2, 700), 1566);
  // Its own last ID next time: no takeover wait.
  ASSERT_TRUE(a->Release().ok());
  auto a2 = Make(options);
  auto again = a2->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->takeover_wait_millis, 0);
}

TEST_P(ClusterLeaseTest, UnreachableIsNotLost) {
  auto a = Make(Options("a"));
  ASSERT_TRUE(a->Acquire().ok());
  ASSERT_TRUE(backend_->Pause(0).ok());
  const auto paused = std::chrono::steady_clock::now();
  while (!a->Info().presumed_expired &&
         std::chrono::steady_clock::now() - paused < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Past the deadline (before the 2 s TTL could run out at the
  // coordinator) the lease is presumed expired, but the node may still
  // issue below its HWM.
  EXPECT_TRUE(a->Info().presumed_expired);
  EXPECT_LT(std::chrono::steady_clock::now() - paused,
            std::chrono::milliseconds(2000));
  EXPECT_TRUE(a->Valid());
  EXPECT_FALSE(a->Lost());
  EXPECT_FALSE(a->Info().coordinator_up);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(a->Valid());
  ASSERT_TRUE(backend_->Resume(0).ok());
  const auto resumed = std::chrono::steady_clock::now();
  while (a->Info().presumed_expired && !a->Lost() &&
         std::chrono::steady_clock::now() - resumed <
             std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Either the session survived (etcd extends leases after a pause) and is
  // renewed, or the coordinator expired it and the lease says so.
  EXPECT_TRUE(!a->Info().presumed_expired || a->Lost());
  EXPECT_GT(a->Info().renew_failures, 0u);
}

TEST_P(ClusterLeaseTest, PrefersItsLastWorkerIdThenTheOldestMark) {
  // IDs 0-2: 0 has a recent mark, 1 an old one, 2 none.
  ASSERT_TRUE(backend_->PutHwm("test", 0, 2000).ok());
  ASSERT_TRUE(backend_->PutHwm("test", 1, 1000).ok());
  auto a = Make(Options("a", 0, 2));
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->worker_id, 2);  // No mark at all is the oldest.
  ASSERT_TRUE(a->Release().ok());
  auto b = Make(Options("b", 0, 2));
  auto gb = b->Acquire();
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_EQ(gb->worker_id, 2);
  ASSERT_TRUE(b->Release().ok());
  // "a" remembers 2 even though 1's mark is older... and 2 is free again.
  auto a2 = Make(Options("a", 0, 2));
  auto g2 = a2->Acquire();
  ASSERT_TRUE(g2.ok()) << g2.status();
  EXPECT_EQ(g2->worker_id, 2);
  // A node with no identity takes the oldest mark among the free: 1 (both
  // have history, so both cost a takeover wait).
  auto c = Make(Options("c", 0, 2));
  auto gc = c->Acquire();
  ASSERT_TRUE(gc.ok()) << gc.status();
  EXPECT_EQ(gc->worker_id, 1);
}

TEST_P(ClusterLeaseTest, BadOptionsAreRejected) {
  ClusterLeaseOptions options = Options("a", 5, 2000);
  EXPECT_THAT(
      backend_->MakeLease(options, SystemLeaseClock()).status().message(),
      HasSubstr("within 0-1023"));
  options = Options("a");
  options.ttl_seconds = 0;
  EXPECT_EQ(backend_->MakeLease(options, SystemLeaseClock()).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options("");
  EXPECT_EQ(backend_->MakeLease(options, SystemLeaseClock()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace snowflake
