// The lease's fencing on a fake LeaseClock, against a real etcd and a real
// ZooKeeper (testing/coordinator_backend.h): the fencing deadline, the
// keep-alive schedule and the takeover wait are each pinned to the microsecond
// of lease-clock time, with no sleeping (only the servers' own round trips take
// real time), on both coordinators.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/protocol/cluster_lease.h"
#include "testing/coordinator_backend.h"
#include "testing/fake_lease_clock.h"

namespace snowflake {
namespace {

using ::snowflake::testing::CoordinatorBackend;
using ::snowflake::testing::CoordinatorKind;
using ::snowflake::testing::FakeLeaseClock;
using ::snowflake::testing::KindName;

// A TTL long enough that the coordinator never expires the session in real
// time while the fake clock stands still between keep-alives.
constexpr int64_t kTtlSeconds = 60;
constexpr int64_t kMarginMicros = 6'000'000;   // TTL / 10.
constexpr int64_t kPeriodMicros = 20'000'000;  // TTL / 3.
// From a keep-alive's send time to the fencing deadline.
constexpr int64_t kValidMicros = kTtlSeconds * 1'000'000 - kMarginMicros;

// ClusterLease::AwaitTakeover on a thread of its own.
class TakeoverWaiter {
 public:
  explicit TakeoverWaiter(ClusterLease& lease)
      : lease_(lease),
        thread_([this] { result_ = lease_.AwaitTakeover() ? 1 : 0; }) {}
  ~TakeoverWaiter() {
    if (!thread_.joinable()) return;
    // A failed test may leave it waiting: Release ends the wait.
    if (result_.load() < 0) (void)lease_.Release();
    thread_.join();
  }
  TakeoverWaiter(const TakeoverWaiter&) = delete;
  TakeoverWaiter& operator=(const TakeoverWaiter&) = delete;

  // -1 while it waits, then what AwaitTakeover returned (1 true, 0 false).
  int result() const { return result_.load(); }
  // Waits until AwaitTakeover has returned; its result.
  int Join() {
    if (thread_.joinable()) thread_.join();
    return result_.load();
  }

 private:
  ClusterLease& lease_;
  std::atomic<int> result_{-1};
  std::thread thread_;
};

class ClusterLeaseClockTest : public ::testing::TestWithParam<CoordinatorKind> {
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
    options.ttl_seconds = kTtlSeconds;
    options.node_name = node;
    options.addresses = {"127.0.0.1:1"};
    options.state_dir = backend_->dir() + "/state-" + node;
    return options;
  }

  std::unique_ptr<ClusterLease> Make(ClusterLeaseOptions options,
                                     LeaseClock& clock) {
    auto lease = backend_->MakeLease(std::move(options), clock);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *std::move(lease) : nullptr;
  }

  // Gives worker ID 3 history: a stored mark, as a holder that left
  // behind it.
  void GiveIdThreeHistory() {
    ASSERT_TRUE(backend_->PutHwm("test", 3, 1000).ok());
  }

  // What a lease's loss reason says when its claim was deleted by hand.
  std::string DeletedReason() const {
    return GetParam() == CoordinatorKind::kEtcd ? "was deleted" : "is gone";
  }

  std::unique_ptr<CoordinatorBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Coordinators, ClusterLeaseClockTest,
                         ::testing::Values(CoordinatorKind::kEtcd,
                                           CoordinatorKind::kZooKeeper),
                         [](const auto& info) { return KindName(info.param); });

// The deadline is the last successful keep-alive's send time plus the TTL
// less the margin; the lease is presumed expired from that microsecond on,
// not one before; a keep-alive is sent exactly when due, and its success
// moves the deadline.
TEST_P(ClusterLeaseClockTest,
       PresumedExpiredExactlyAtTheLastKeepAlivesDeadline) {
  FakeLeaseClock clock;
  const int64_t t0 = clock.NowMicros();
  auto a = Make(Options("a"), clock);
  auto grant = a->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->takeover_wait_millis, 0);
  EXPECT_TRUE(a->Valid());             // No takeover wait: valid at once.
  ASSERT_TRUE(clock.AwaitWaiters(1));  // The keep-alive thread, idle.
  // Granted at t0.
  EXPECT_EQ(a->Info().expires_in_millis, kValidMicros / 1000);

  // 1 us before the first keep-alive is due: none is sent.
  clock.AdvanceMicros(kPeriodMicros - 1);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(a->Info().expires_in_millis,
            (kValidMicros - kPeriodMicros + 1) / 1000);
  // Due: sent at t0 + period, and its answer moves the deadline there.
  clock.AdvanceMicros(1);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  LeaseInfo info = a->Info();
  EXPECT_EQ(info.expires_in_millis, kValidMicros / 1000);
  EXPECT_EQ(info.renew_failures, 0u);
  const int64_t deadline = t0 + kPeriodMicros + kValidMicros;

  // The coordinator stops answering: the next keep-alives fail and the
  // deadline stays.
  ASSERT_TRUE(backend_->Pause(0).ok());
  clock.AdvanceMicros(deadline - 1 - clock.NowMicros());
  ASSERT_TRUE(clock.AwaitWaiters(1));  // One keep-alive tried, and failed.
  info = a->Info();
  EXPECT_GE(info.renew_failures, 1u);
  EXPECT_FALSE(info.coordinator_up);
  EXPECT_FALSE(info.presumed_expired) << "1 us before the deadline";
  EXPECT_TRUE(info.held);
  clock.AdvanceMicros(1);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  info = a->Info();
  EXPECT_TRUE(info.presumed_expired) << "at the deadline";
  EXPECT_EQ(info.expires_in_millis, 0);
  // Unreachable is not lost: issuing goes on below the stored HWM.
  EXPECT_TRUE(a->Valid());
  EXPECT_FALSE(a->Lost());

  // The coordinator back: the next keep-alive (a retry, 150 ms later)
  // renews, and the deadline is counted from its send time again.
  ASSERT_TRUE(backend_->Resume(0).ok());
  for (int i = 0; i < 100 && a->Info().presumed_expired; ++i) {
    clock.AdvanceMicros(150'000);
    ASSERT_TRUE(clock.AwaitWaiters(1));
  }
  info = a->Info();
  EXPECT_FALSE(info.presumed_expired);
  EXPECT_EQ(info.expires_in_millis, kValidMicros / 1000);
  EXPECT_TRUE(info.coordinator_up);
  EXPECT_TRUE(a->Valid());
  ASSERT_TRUE(a->Release().ok());
}

// A second node on an ID another held before waits one keep-alive interval,
// the margin and the skew bound of lease-clock time from its claim before
// it may issue, and not one microsecond less.
TEST_P(ClusterLeaseClockTest,
       TakeoverWaitEndsExactlyAfterItsLengthOfLeaseTime) {
  {
    auto first =
        backend_->MakeLease(Options("first", 3, 3), SystemLeaseClock());
    ASSERT_TRUE(first.ok()) << first.status();
    auto grant = (*first)->Acquire();
    ASSERT_TRUE(grant.ok()) << grant.status();
    ASSERT_TRUE(grant->hwm_store->Store(1000).ok());
    ASSERT_TRUE((*first)->Release().ok());
  }
  FakeLeaseClock clock;
  ClusterLeaseOptions options = Options("second", 3, 3);
  options.max_clock_skew_millis = 700;
  auto second = Make(options, clock);
  auto grant = second->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_EQ(grant->worker_id, 3);
  const int64_t wait_micros = kPeriodMicros + kMarginMicros + 700'000;
  EXPECT_EQ(grant->takeover_wait_millis, wait_micros / 1000);
  EXPECT_EQ(ClusterLease::TakeoverWaitMillis(kTtlSeconds, 700),
            wait_micros / 1000);
  EXPECT_FALSE(second->Valid());
  EXPECT_TRUE(second->Info().held);

  TakeoverWaiter waiter(*second);
  ASSERT_TRUE(clock.AwaitWaiters(2));  // The waiter and the keep-alive.
  clock.AdvanceMicros(wait_micros - 1);
  // Both woke (the keep-alive was due and renewed) and wait again.
  EXPECT_TRUE(clock.AwaitWaiters(2, std::chrono::milliseconds(10'000)));
  EXPECT_EQ(waiter.result(), -1) << "ended 1 us early";
  EXPECT_FALSE(second->Valid());
  EXPECT_EQ(second->Info().renew_failures, 0u);
  clock.AdvanceMicros(1);
  EXPECT_EQ(waiter.Join(), 1);
  EXPECT_TRUE(second->Valid());
  EXPECT_TRUE(second->AwaitTakeover());  // Over: returns at once.
  ASSERT_TRUE(second->Release().ok());
}

// A claim lost during the takeover wait ends it at once (no lease-clock
// time passes), and the lease is not valid.
TEST_P(ClusterLeaseClockTest, LosingTheClaimEndsTheTakeoverWait) {
  GiveIdThreeHistory();
  FakeLeaseClock clock;
  auto lease = Make(Options("a", 3, 3), clock);
  auto grant = lease->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_GT(grant->takeover_wait_millis, 0);
  TakeoverWaiter waiter(*lease);
  ASSERT_TRUE(clock.AwaitWaiters(2));
  ASSERT_TRUE(backend_->DeleteClaim("test", 3).ok());
  // The watch marks the claim lost, which wakes it.
  EXPECT_EQ(waiter.Join(), 0);
  EXPECT_TRUE(lease->Lost());
  EXPECT_FALSE(lease->Valid());
  EXPECT_THAT(lease->Info().lost_reason, ::testing::HasSubstr(DeletedReason()));
}

// Release during the takeover wait ends it too; the next grant (this
// node's last ID now) has no wait and is valid at once.
TEST_P(ClusterLeaseClockTest, ReleaseEndsTheTakeoverWait) {
  GiveIdThreeHistory();
  FakeLeaseClock clock;
  auto lease = Make(Options("a", 3, 3), clock);
  auto grant = lease->Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_GT(grant->takeover_wait_millis, 0);
  TakeoverWaiter waiter(*lease);
  ASSERT_TRUE(clock.AwaitWaiters(2));
  ASSERT_TRUE(lease->Release().ok());
  EXPECT_EQ(waiter.Join(), 0);
  EXPECT_FALSE(lease->Valid());
  auto again = lease->Acquire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->takeover_wait_millis, 0);
  EXPECT_TRUE(lease->Valid());
  EXPECT_TRUE(lease->AwaitTakeover());
}

}  // namespace
}  // namespace snowflake
