// The lease protocol on an in-memory coordinator and a fake lease clock:
// claims, the HWM fence, loss and the deadlines, without any coordinator
// process (the etcd wiring is tested against a real etcd in
// src/lease/etcd).
#include "src/lease/protocol/coordinated_lease.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/protocol/timing.h"
#include "testing/fake_coordinator.h"
#include "testing/fake_lease_clock.h"

namespace snowflake::lease_protocol {
namespace {

using ::snowflake::testing::FakeCoordinator;
using ::snowflake::testing::FakeLeaseClock;
using ::testing::HasSubstr;

constexpr int64_t kTtlSeconds = 60;
constexpr int64_t kSkewMillis = 1000;

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "coordinated_lease.XXXXXX")
          .string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// Polls `done` for up to 10 s of real time (loss noticed by a thread).
template <typename F>
bool Eventually(F done) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class CoordinatedLeaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<CoordinatedLease> Make(const std::string& node, int64_t first,
                                         int64_t last,
                                         std::string state_dir = "") {
    CoordinatedLeaseOptions options;
    options.cluster = "test";
    options.range_first = first;
    options.range_last = last;
    options.ttl_seconds = kTtlSeconds;
    options.holder.node = node;
    options.state_dir = std::move(state_dir);
    options.max_clock_skew_millis = kSkewMillis;
    options.config = "41/10/12";
    return std::make_unique<CoordinatedLease>(std::move(options), coordinator_,
                                              clock_);
  }

  FakeLeaseClock clock_;
  FakeCoordinator coordinator_{clock_};
};

TEST_F(CoordinatedLeaseTest, NodesGetDistinctIdsAndARangeRunsOut) {
  auto a = Make("a", 0, 1);
  auto b = Make("b", 0, 1);
  auto c = Make("c", 0, 1);
  auto ga = a->Acquire();
  auto gb = b->Acquire();
  ASSERT_TRUE(ga.ok()) << ga.status();
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_NE(ga->worker_id, gb->worker_id);
  EXPECT_TRUE(a->Valid());
  auto gc = c->Acquire();
  EXPECT_EQ(gc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(gc.status().message(), HasSubstr("0 by a"));
  EXPECT_THAT(gc.status().message(), HasSubstr("1 by b"));
  EXPECT_EQ(c->Info().acquire_conflicts, 0u);  // Both were listed as taken.
}

TEST_F(CoordinatedLeaseTest, ConfigMismatchIsRefused) {
  coordinator_.SetConfig("42/9/12");
  auto lease = Make("a", 0, 0);
  EXPECT_EQ(lease->Acquire().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(lease->Info().coordinator_up);
}

TEST_F(CoordinatedLeaseTest, UnreachableAtStartIsUnavailable) {
  coordinator_.SetReachable(false);
  auto lease = Make("a", 0, 0);
  EXPECT_EQ(lease->Acquire().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(lease->Info().coordinator_up);
  EXPECT_FALSE(lease->Valid());
}

TEST_F(CoordinatedLeaseTest, MarkMovesOnlyWhileTheClaimIsOurs) {
  auto lease = Make("a", 3, 3);
  auto grant = lease->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(grant->coordinator_store->Store(5000).ok());
  EXPECT_EQ(coordinator_.Mark(3), 5000);
  coordinator_.DeleteClaim(3);
  EXPECT_TRUE(lease->Lost());  // The watch: at once.
  EXPECT_FALSE(lease->Valid());
  absl::Status store = grant->coordinator_store->Store(9000);
  EXPECT_EQ(store.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(coordinator_.Mark(3), 5000);
  EXPECT_THAT(lease->Info().lost_reason, HasSubstr("fake claim deleted"));
  EXPECT_EQ(lease->Info().claims_lost, 1u);
}

TEST_F(CoordinatedLeaseTest, MarkIsCompareAndSetAndNeverLowersAnotherOne) {
  auto lease = Make("a", 3, 3);
  auto grant = lease->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_TRUE(grant->coordinator_store->Store(5000).ok());
  coordinator_.PutMark(3, 8000);  // Another writer (fence-restore).
  EXPECT_TRUE(grant->coordinator_store->Store(6000).ok());
  EXPECT_EQ(coordinator_.Mark(3), 8000);
  EXPECT_TRUE(grant->coordinator_store->Store(9000).ok());
  EXPECT_EQ(coordinator_.Mark(3), 9000);
}

TEST_F(CoordinatedLeaseTest, PresumedExpiredExactlyAtTheDeadlineButValid) {
  auto lease = Make("a", 0, 0);
  ASSERT_TRUE(lease->Acquire().ok());
  ASSERT_TRUE(clock_.AwaitWaiters(1));  // The keep-alive thread runs.
  coordinator_.SetReachable(false);
  const int64_t valid_micros =
      kTtlSeconds * 1'000'000 - SafetyMarginMillis(kTtlSeconds * 1000) * 1000;
  clock_.AdvanceMicros(valid_micros - 1);
  EXPECT_FALSE(lease->Info().presumed_expired);
  clock_.AdvanceMicros(1);
  EXPECT_TRUE(lease->Info().presumed_expired);
  // Unreachable is not lost: issuing goes on below the stored mark.
  EXPECT_TRUE(lease->Valid());
  EXPECT_FALSE(lease->Lost());
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_FALSE(lease->Info().coordinator_up);
  EXPECT_GE(lease->Info().renew_failures, 1u);
}

TEST_F(CoordinatedLeaseTest, KeepAliveEveryThirdOfTheTtlMovesTheDeadline) {
  auto lease = Make("a", 0, 0);
  ASSERT_TRUE(lease->Acquire().ok());
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  clock_.AdvanceMillis(KeepAlivePeriodMillis(kTtlSeconds * 1000) - 1);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_EQ(coordinator_.keep_alives(), 0);
  clock_.AdvanceMillis(1);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_EQ(coordinator_.keep_alives(), 1);
  EXPECT_EQ(lease->Info().expires_in_millis,
            kTtlSeconds * 1000 - SafetyMarginMillis(kTtlSeconds * 1000));
}

TEST_F(CoordinatedLeaseTest, InfoCountsTheFreeIdsOfTheRangeAndTheTtl) {
  auto a = Make("a", 0, 3);
  EXPECT_EQ(a->Info().range_free, -1);  // Not listed yet.
  ASSERT_TRUE(a->Acquire().ok());
  EXPECT_EQ(a->Info().range_size, 4);
  EXPECT_EQ(a->Info().range_free, 3);
  EXPECT_EQ(a->Info().ttl_millis, kTtlSeconds * 1000);
  auto b = Make("b", 0, 3);
  auto c = Make("c", 2, 9);  // Overlaps: its claim counts in a's range.
  ASSERT_TRUE(b->Acquire().ok());
  ASSERT_TRUE(c->Acquire().ok());
  EXPECT_EQ(b->Info().range_free, 2);
  EXPECT_EQ(a->Info().range_free, 3);  // Listed at the next renewal.
  ASSERT_TRUE(clock_.AwaitWaiters(3));
  clock_.AdvanceMillis(KeepAlivePeriodMillis(kTtlSeconds * 1000));
  ASSERT_TRUE(clock_.AwaitWaiters(3));
  EXPECT_EQ(a->Info().range_free, 1);
  EXPECT_EQ(c->Info().range_size, 8);
  EXPECT_EQ(c->Info().range_free, 7);  // 2 of 2-9 held.
}

TEST_F(CoordinatedLeaseTest, HistoryThatWentBackFencesAndAcquireStartsOver) {
  auto lease = Make("a", 0, 0);
  ASSERT_TRUE(lease->Acquire().ok());
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  coordinator_.SetHistoryWentBack("restored from an older snapshot");
  clock_.AdvanceMillis(50);
  ASSERT_TRUE(Eventually([&] { return lease->Lost(); }));
  EXPECT_FALSE(lease->Valid());
  EXPECT_EQ(lease->Info().lost_reason, "restored from an older snapshot");
  auto again = lease->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(lease->Valid());
  EXPECT_EQ(lease->Info().acquisitions, 2u);
}

TEST_F(CoordinatedLeaseTest, ExpiredSessionIsLost) {
  auto lease = Make("a", 2, 2);
  ASSERT_TRUE(lease->Acquire().ok());
  coordinator_.ExpireSession(coordinator_.Holder(2));
  EXPECT_TRUE(lease->Lost());
  EXPECT_EQ(coordinator_.Holder(2), 0);
}

// A watch whose stream dropped may have missed the claim's deletion: the
// claim is read at once, not at the next poll (the fake clock stands still).
TEST_F(CoordinatedLeaseTest, MissedEventsReadTheClaimAtOnce) {
  auto lease = Make("a", 2, 2);
  ASSERT_TRUE(lease->Acquire().ok());
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  coordinator_.DeleteClaimUnseen(2);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_FALSE(lease->Lost());  // Nothing said so yet.
  coordinator_.ReportMissed(2);
  EXPECT_TRUE(Eventually([&] { return lease->Lost(); }))
      << "the claim was not read again";
  EXPECT_THAT(lease->Info().lost_reason, HasSubstr("fake claim gone"));
}

// A claim that cannot be read (coordinator cut off) is read again at every
// poll, and keep-alives go on meanwhile: their failures are what tells
// the operator the coordinator is down.
TEST_F(CoordinatedLeaseTest, KeepAlivesGoOnWhileAClaimCannotBeRead) {
  auto lease = Make("a", 2, 2);
  ASSERT_TRUE(lease->Acquire().ok());
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  coordinator_.SetReachable(false);
  coordinator_.ReportMissed(2);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_EQ(lease->Info().renew_failures, 0u);
  clock_.AdvanceMillis(KeepAlivePeriodMillis(kTtlSeconds * 1000));
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_GE(lease->Info().renew_failures, 1u);
  EXPECT_FALSE(lease->Info().coordinator_up);
  EXPECT_FALSE(lease->Lost());  // Unreachable is not lost.
  coordinator_.SetReachable(true);
  clock_.AdvanceMillis(200);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_TRUE(lease->Info().coordinator_up);
  EXPECT_FALSE(lease->Lost());
}

TEST_F(CoordinatedLeaseTest, TakingOverAnIdWithHistoryWaitsThenItsOwnDoesNot) {
  coordinator_.PutMark(5, 1000);  // Long past, but history.
  auto lease = Make("a", 5, 5);
  auto grant = lease->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  const int64_t wait = TakeoverWaitMillis(kTtlSeconds * 1000, kSkewMillis);
  EXPECT_EQ(grant->takeover_wait_millis, wait);
  EXPECT_FALSE(grant->own_mark);
  EXPECT_FALSE(lease->Valid());
  EXPECT_TRUE(lease->Info().held);
  clock_.AdvanceMillis(wait - 1);
  EXPECT_FALSE(lease->Valid());
  clock_.AdvanceMillis(1);
  EXPECT_TRUE(lease->Valid());
  EXPECT_TRUE(lease->AwaitTakeover());

  // Back in the same process with the mark it wrote: no wait.
  ASSERT_TRUE(grant->coordinator_store->Store(2000).ok());
  ASSERT_TRUE(lease->Release().ok());
  EXPECT_FALSE(lease->Valid());
  auto again = lease->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->own_mark);
  EXPECT_EQ(again->takeover_wait_millis, 0);
  EXPECT_TRUE(lease->Valid());
}

TEST_F(CoordinatedLeaseTest, PrefersItsLastIdFromTheIdentityFile) {
  const std::string dir = TempDir();
  auto a = Make("a", 0, 2, dir + "/a");
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  const int64_t first = grant->worker_id;
  ASSERT_TRUE(grant->hwm_store->Store(1000).ok());
  EXPECT_THAT(a->Info().hwm_store, HasSubstr("local floor"));
  ASSERT_TRUE(a->Release().ok());
  // A new process (a new lease object) on the same state directory.
  a = Make("a", 0, 2, dir + "/a");
  auto again = a->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->worker_id, first);
  EXPECT_EQ(again->takeover_wait_millis, 0);  // Its own last ID.
  EXPECT_FALSE(again->own_mark);
  // Another node avoids the ID with history: a fresh one costs no wait.
  auto b = Make("b", 0, 2, dir + "/b");
  auto other = b->Acquire();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->worker_id, first);
  EXPECT_EQ(other->takeover_wait_millis, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace snowflake::lease_protocol
