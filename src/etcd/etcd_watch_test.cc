// EtcdClient::Watch against real etcd processes started by EtcdLauncher.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/etcd/etcd_client.h"
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
using ::testing::HasSubstr;
using Type = WatchEvent::Type;

constexpr milliseconds kCallTimeout(1600);

// Collects the events of one watch, with the time each arrived.
class Events {
 public:
  std::function<void(const WatchEvent&)> Callback() {
    return [this](const WatchEvent& event) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(event);
      arrived_.push_back(steady_clock::now());
      changed_.notify_all();
    };
  }

  // Waits for the first event after the first `skip` ones that has `type`;
  // returns its index, or -1 after `timeout`.
  int WaitFor(Type type, size_t skip, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    int found = -1;
    changed_.wait_for(lock, timeout, [&] {
      for (size_t i = skip; i < events_.size(); ++i) {
        if (events_[i].type == type) {
          found = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  WatchEvent at(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.at(static_cast<size_t>(i));
  }
  steady_clock::time_point arrived(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_.at(static_cast<size_t>(i));
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  int Count(Type type) {
    std::lock_guard<std::mutex> lock(mu_);
    int count = 0;
    for (const WatchEvent& event : events_) count += event.type == type;
    return count;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<WatchEvent> events_;
  std::vector<steady_clock::time_point> arrived_;
};

std::unique_ptr<KeyWatch> StartWatch(EtcdClient& client, const std::string& key,
                                     int64_t start_revision, Events& events) {
  absl::StatusOr<std::unique_ptr<KeyWatch>> watch =
      client.Watch(key, start_revision, events.Callback());
  EXPECT_TRUE(watch.ok()) << watch.status();
  return watch.ok() ? *std::move(watch) : nullptr;
}

class EtcdWatchTest : public SharedEtcdTest<EtcdWatchTest> {};

TEST_F(EtcdWatchTest, PutAndDeleteArriveAsEventsAtOnce) {
  Events events;
  std::unique_ptr<KeyWatch> watch = StartWatch(*client_, "w/a", 0, events);
  ASSERT_NE(watch, nullptr);
  ASSERT_OK(client_->Put("w/other", "x"));
  ASSERT_OK(client_->Put("w/a", "1"));
  const int put = events.WaitFor(Type::kPut, 0, milliseconds(2000));
  ASSERT_GE(put, 0);
  EXPECT_EQ(events.at(put).kv.key, "w/a");
  EXPECT_EQ(events.at(put).kv.value, "1");
  EXPECT_EQ(events.at(put).revision, events.at(put).kv.mod_revision);

  const auto start = steady_clock::now();
  absl::StatusOr<int64_t> deleted = client_->Delete("w/a");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  const int gone = events.WaitFor(Type::kDelete, 0, milliseconds(2000));
  ASSERT_GE(gone, 0);
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      events.arrived(gone) - start);
  std::cout << "delete to kDelete event: " << latency.count() << " us\n";
  EXPECT_LT(latency, milliseconds(50));
  EXPECT_EQ(events.at(gone).kv.key, "w/a");
  EXPECT_GT(events.at(gone).kv.mod_revision, events.at(put).kv.mod_revision);
  // Only the watched key.
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(EtcdWatchTest, ReplaysFromTheStartRevision) {
  ASSERT_OK(client_->Put("w/replay", "1"));
  absl::StatusOr<std::optional<KeyValue>> first = client_->Get("w/replay");
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_OK(client_->Put("w/replay", "2"));
  ASSERT_OK(client_->Put("w/replay", "3"));
  Events events;
  std::unique_ptr<KeyWatch> watch =
      StartWatch(*client_, "w/replay", (*first)->mod_revision, events);
  ASSERT_TRUE(
      Eventually([&] { return events.size() == 3; }, milliseconds(2000)));
  EXPECT_EQ(events.at(0).kv.value, "1");
  EXPECT_EQ(events.at(2).kv.value, "3");
}

TEST_F(EtcdWatchTest, RevokingTheLeaseDeletesTheKey) {
  absl::StatusOr<Lease> lease = client_->LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_OK(client_->Put("w/claim", "node", lease->id));
  Events events;
  std::unique_ptr<KeyWatch> watch = StartWatch(*client_, "w/claim", 0, events);
  const auto start = steady_clock::now();
  ASSERT_OK(client_->LeaseRevoke(lease->id));
  const int gone = events.WaitFor(Type::kDelete, 0, milliseconds(2000));
  ASSERT_GE(gone, 0);
  EXPECT_LT(events.arrived(gone) - start, milliseconds(100));
  EXPECT_EQ(events.at(gone).kv.key, "w/claim");
}

TEST_F(EtcdWatchTest, CompactedStartRevisionIsReportedThenWatchGoesOn) {
  ASSERT_OK(client_->Put("w/compact", "1"));
  absl::StatusOr<std::optional<KeyValue>> old = client_->Get("w/compact");
  ASSERT_TRUE(old.ok() && old->has_value());
  ASSERT_OK(client_->Put("w/compact", "2"));
  absl::StatusOr<std::optional<KeyValue>> now = client_->Get("w/compact");
  ASSERT_TRUE(now.ok() && now->has_value());
  absl::StatusOr<std::string> out =
      etcd_->Etcdctl({"compact", std::to_string((*now)->mod_revision)});
  ASSERT_TRUE(out.ok()) << out.status();

  Events events;
  std::unique_ptr<KeyWatch> watch =
      StartWatch(*client_, "w/compact", (*old)->mod_revision, events);
  const int compacted = events.WaitFor(Type::kCompacted, 0, milliseconds(2000));
  ASSERT_GE(compacted, 0);
  EXPECT_THAT(events.at(compacted).error, HasSubstr("compacted"));
  EXPECT_EQ(events.at(compacted).revision, (*now)->mod_revision);
  // It goes on from the compaction revision, so even a change made right
  // after the notice arrives.
  ASSERT_OK(client_->Put("w/compact", "3"));
  ASSERT_TRUE(Eventually(
      [&] {
        return events.size() > 0 &&
               events.at(static_cast<int>(events.size()) - 1).kv.value == "3";
      },
      milliseconds(2000)));
  const int put = events.WaitFor(Type::kPut, compacted, milliseconds(0));
  ASSERT_GE(put, 0);
  EXPECT_EQ(events.at(put).kv.value, "2");
}

TEST_F(EtcdWatchTest, FailsWhenNoEndpointAnswers) {
  std::unique_ptr<EtcdClient> dead = ConnectEtcd(
      {"http://127.0.0.1:1", "http://127.0.0.1:2"}, kCallTimeout, kCallTimeout);
  Events events;
  const auto start = steady_clock::now();
  absl::StatusOr<std::unique_ptr<KeyWatch>> watch =
      dead->Watch("w/a", 0, events.Callback());
  EXPECT_EQ(watch.status().code(), absl::StatusCode::kUnavailable)
      << watch.status();
  EXPECT_THAT(
      watch.status().message(),
      HasSubstr("etcd Watch at http://127.0.0.1:1, http://127.0.0.1:2"));
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
}

// Members that go away: each test has its own etcd.
TEST(EtcdWatchRestartTest, BreaksOnRestartThenDeliversLaterEvents) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<EtcdClient> client =
      ConnectEtcd(etcd->ClientUrls(), kCallTimeout, kCallTimeout);
  Events events;
  std::unique_ptr<KeyWatch> watch = StartWatch(*client, "w/r", 0, events);
  ASSERT_NE(watch, nullptr);
  ASSERT_OK(client->Put("w/r", "1"));
  ASSERT_GE(events.WaitFor(Type::kPut, 0, milliseconds(2000)), 0);

  ASSERT_OK(etcd->Kill(0));
  const int broken = events.WaitFor(Type::kBroken, 0, milliseconds(2000));
  ASSERT_GE(broken, 0);
  EXPECT_THAT(events.at(broken).error, HasSubstr(etcd->ClientUrl(0)));
  std::this_thread::sleep_for(milliseconds(3000));
  ASSERT_OK(etcd->Restart(0));
  ASSERT_TRUE(Eventually([&] { return client->Put("w/r", "2").ok(); },
                         milliseconds(5000)));
  const int put = events.WaitFor(Type::kPut, broken, milliseconds(5000));
  ASSERT_GE(put, 0);
  EXPECT_EQ(events.at(put).kv.value, "2");
  ASSERT_OK(client->Delete("w/r").status());
  EXPECT_GE(events.WaitFor(Type::kDelete, put, milliseconds(2000)), 0);
  EXPECT_EQ(events.Count(Type::kBroken), 1);
}

TEST(EtcdWatchRestartTest, MissesNoEventWhileMovingToAnotherMember) {
  EtcdLauncherOptions three;
  three.members = 3;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(three);
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<EtcdClient> client =
      ConnectEtcd(etcd->ClientUrls(), kCallTimeout, kCallTimeout);
  Events events;
  // The watch starts on member 0, where the client's calls start.
  std::unique_ptr<KeyWatch> watch = StartWatch(*client, "w/m", 0, events);
  ASSERT_NE(watch, nullptr);
  ASSERT_OK(etcd->Kill(0));
  // Written while the watch has no stream.
  ASSERT_TRUE(Eventually([&] { return client->Put("w/m", "1").ok(); },
                         milliseconds(5000)));
  ASSERT_OK(client->Put("w/m", "2"));
  ASSERT_TRUE(Eventually([&] { return events.Count(Type::kPut) == 2; },
                         milliseconds(5000)));
  EXPECT_EQ(events.Count(Type::kBroken), 1);
  const int first = events.WaitFor(Type::kPut, 0, milliseconds(0));
  EXPECT_EQ(events.at(first).kv.value, "1");
}

TEST(EtcdWatchRestartTest, DestroyingIsPromptWhileEtcdIsDown) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<EtcdClient> client =
      ConnectEtcd(etcd->ClientUrls(), kCallTimeout, kCallTimeout);
  for (int wait_ms : {0, 400, 1000}) {
    SCOPED_TRACE(wait_ms);
    Events events;
    std::unique_ptr<KeyWatch> watch = StartWatch(*client, "w/d", 0, events);
    ASSERT_NE(watch, nullptr);
    ASSERT_OK(etcd->Kill(0));
    std::this_thread::sleep_for(milliseconds(wait_ms));
    const auto start = steady_clock::now();
    watch.reset();
    const auto took =
        std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
    std::cout << "destroyed " << wait_ms << " ms after the kill in "
              << took.count() << " ms\n";
    EXPECT_LT(took, milliseconds(200));
    ASSERT_OK(etcd->Restart(0));
    ASSERT_TRUE(Eventually([&] { return client->Put("w/d", "1").ok(); },
                           milliseconds(5000)));
  }
}

}  // namespace
}  // namespace snowflake::etcd
