// ZooKeeperClient against real ZooKeeper servers started by
// ZooKeeperLauncher: one standalone server shared by a suite, and a
// 3-member ensemble for connection loss and session expiry.
#include "src/zookeeper/zookeeper_client.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/mutex.h"
#include "testing/zookeeper_launcher.h"

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status assert_ok_status = (expr);           \
    ASSERT_TRUE(assert_ok_status.ok()) << assert_ok_status; \
  } while (false)

namespace snowflake::zookeeper {
namespace {

using ::snowflake::testing::ZooKeeperLauncher;
using ::snowflake::testing::ZooKeeperLauncherOptions;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The launcher's tick: sessions may last from 2 ticks (400 ms) up.
constexpr milliseconds kTick{200};

milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

int64_t BootTimeMicros() {
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
}

// Polls `done` every 50 ms for up to `timeout`.
bool Eventually(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return true;
}

// Null (and a test failure) if ZooKeeper did not come up.
std::unique_ptr<ZooKeeperLauncher> StartZooKeeper(int members) {
  ZooKeeperLauncherOptions options;
  options.members = members;
  options.tick = kTick;
  absl::StatusOr<std::unique_ptr<ZooKeeperLauncher>> launcher =
      ZooKeeperLauncher::Start(options);
  EXPECT_TRUE(launcher.ok()) << launcher.status();
  if (!launcher.ok()) return nullptr;
  std::fprintf(stderr, "ZooKeeper: %d member(s) serving after %lld ms\n",
               members,
               static_cast<long long>((*launcher)->start_duration().count()));
  return *std::move(launcher);
}

ZooKeeperOptions Options(std::string hosts) {
  ZooKeeperOptions options;
  options.hosts = std::move(hosts);
  options.connect_timeout = milliseconds(10000);
  options.call_timeout = milliseconds(5000);
  return options;
}

// Null (and a test failure) if Connect fails.
std::unique_ptr<ZooKeeperClient> Connect(ZooKeeperOptions options) {
  absl::StatusOr<std::unique_ptr<ZooKeeperClient>> client =
      ZooKeeperClient::Connect(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

std::unique_ptr<ZooKeeperClient> Connect(std::string hosts) {
  return Connect(Options(std::move(hosts)));
}

// Records what a callback reports, for the test's thread to wait on. Must
// outlive the client whose callback it is.
template <typename Event>
class Recorder {
 public:
  std::function<void(const Event&)> Callback() {
    return [this](const Event& event) {
      MutexLock lock(&mu_);
      events_.push_back(event);
      changed_.SignalAll();
    };
  }
  // Waits until more than `count` events arrived.
  bool WaitForMoreThan(size_t count, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    MutexLock lock(&mu_);
    while (events_.size() <= count) {
      const auto left =
          std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
      if (left.count() <= 0) return false;
      changed_.WaitFor(&mu_, left);
    }
    return true;
  }
  // Waits until `want` is among the events from index `from` on.
  bool WaitFor(const std::function<bool(const Event&)>& want,
               milliseconds timeout, size_t from = 0) {
    const auto deadline = steady_clock::now() + timeout;
    MutexLock lock(&mu_);
    while (true) {
      for (size_t i = from; i < events_.size(); ++i) {
        if (want(events_[i])) return true;
      }
      const auto left =
          std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
      if (left.count() <= 0) return false;
      changed_.WaitFor(&mu_, left);
    }
  }
  std::vector<Event> events() {
    MutexLock lock(&mu_);
    return events_;
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
};

using SessionLog = Recorder<SessionState>;
using WatchLog = Recorder<WatchEvent>;

std::function<bool(const SessionState&)> Is(SessionState state) {
  return [state](const SessionState& s) { return s == state; };
}

// Tests that share one standalone server; each uses its own paths.
class ZooKeeperClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { zk_ = StartZooKeeper(1).release(); }
  static void TearDownTestSuite() {
    delete zk_;
    zk_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(zk_, nullptr);
    client_ = Connect(zk_->ConnectString());
    ASSERT_NE(client_, nullptr);
  }

  static inline ZooKeeperLauncher* zk_ = nullptr;
  std::unique_ptr<ZooKeeperClient> client_;
};

TEST_F(ZooKeeperClientTest, ConnectsAndReportsTheSession) {
  EXPECT_EQ(client_->state(), SessionState::kConnected);
  EXPECT_NE(client_->session_id(), 0);
  EXPECT_EQ(client_->negotiated_session_timeout(), milliseconds(30000));
  EXPECT_EQ(client_->connected_server(), zk_->ClientAddress(0));
  const int64_t first_heard = client_->last_heard_micros();
  EXPECT_GT(first_heard, 0);
  EXPECT_LE(first_heard, BootTimeMicros());

  // last_heard is the time a request was sent, taken before it was.
  const int64_t before_call = BootTimeMicros();
  ASSERT_TRUE(client_->Exists("/").ok());
  EXPECT_GE(client_->last_heard_micros(), before_call);

  // The server clamps a session timeout to at least two ticks.
  ZooKeeperOptions short_session = Options(zk_->ConnectString());
  short_session.session_timeout = milliseconds(100);
  std::unique_ptr<ZooKeeperClient> other = Connect(short_session);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->negotiated_session_timeout(), 2 * kTick);
  EXPECT_NE(other->session_id(), client_->session_id());
}

TEST_F(ZooKeeperClientTest, CreateIfAbsent) {
  absl::StatusOr<NodeStat> created =
      client_->Create("/cia", "first", CreateMode::kPersistent);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->version, 0);
  EXPECT_EQ(created->ephemeral_owner, 0);
  EXPECT_GT(created->czxid, 0);

  absl::StatusOr<NodeStat> again =
      client_->Create("/cia", "second", CreateMode::kPersistent);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists)
      << again.status();
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("/cia"));
  absl::StatusOr<Node> node = client_->Get("/cia");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->value, "first");
  EXPECT_EQ(node->stat.czxid, created->czxid);

  ASSERT_TRUE(client_->Create("/cia/b", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(client_->Create("/cia/a", "", CreateMode::kEphemeral).ok());
  absl::StatusOr<std::vector<std::string>> children = client_->Children("/cia");
  ASSERT_TRUE(children.ok()) << children.status();
  EXPECT_THAT(*children, ElementsAre("a", "b"));

  EXPECT_EQ(client_->Create("/nope/child", "", CreateMode::kPersistent)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Get("/missing").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::optional<NodeStat>> missing = client_->Exists("/missing");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(
      client_->Create("no-slash", "", CreateMode::kPersistent).status().code(),
      absl::StatusCode::kInvalidArgument);

  // A node with children is not deleted, and that is not a version clash.
  const absl::Status not_empty = client_->Delete("/cia", kAnyVersion);
  EXPECT_EQ(not_empty.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsBadVersion(not_empty));
}

TEST_F(ZooKeeperClientTest, CompareAndSetWithTheWrongVersionChangesNothing) {
  ASSERT_TRUE(client_->Create("/cas", "a", CreateMode::kPersistent).ok());
  absl::StatusOr<NodeStat> set = client_->Set("/cas", "b", 0);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->version, 1);

  absl::StatusOr<NodeStat> stale = client_->Set("/cas", "c", 0);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsBadVersion(stale.status())) << stale.status();
  absl::StatusOr<Node> node = client_->Get("/cas");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->value, "b");
  EXPECT_EQ(node->stat.version, 1);
  EXPECT_EQ(node->stat.mzxid, set->mzxid);

  const absl::Status stale_delete = client_->Delete("/cas", 0);
  EXPECT_TRUE(IsBadVersion(stale_delete)) << stale_delete;
  ASSERT_OK(client_->Delete("/cas", 1));
  EXPECT_EQ(client_->Set("/cas", "d", kAnyVersion).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ZooKeeperClientTest, EphemeralNodeGoesWhenItsSessionCloses) {
  std::unique_ptr<ZooKeeperClient> owner = Connect(zk_->ConnectString());
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(owner->Create("/eph", "x", CreateMode::kEphemeral).ok());
  absl::StatusOr<std::optional<NodeStat>> seen = client_->Exists("/eph");
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->ephemeral_owner, owner->session_id());

  // Closing waits for the server to end the session.
  owner.reset();
  seen = client_->Exists("/eph");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_FALSE(seen->has_value());
}

TEST_F(ZooKeeperClientTest, WatchFiresOnceWhenAnotherSessionsEphemeralGoes) {
  WatchLog watch;
  std::unique_ptr<ZooKeeperClient> owner = Connect(zk_->ConnectString());
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(owner->Create("/watched", "", CreateMode::kEphemeral).ok());
  absl::StatusOr<std::optional<NodeStat>> stat =
      client_->Watch("/watched", watch.Callback());
  ASSERT_TRUE(stat.ok()) << stat.status();
  ASSERT_TRUE(stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, owner->session_id());

  const auto closed = steady_clock::now();
  owner.reset();
  ASSERT_TRUE(watch.WaitForMoreThan(0, milliseconds(3000)));
  EXPECT_LT(Since(closed), milliseconds(3000));
  ASSERT_EQ(watch.events().size(), 1u);
  EXPECT_EQ(watch.events()[0].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(watch.events()[0].path, "/watched");

  // One-shot: the next change is not reported.
  ASSERT_TRUE(client_->Create("/watched", "", CreateMode::kPersistent).ok());
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(watch.events().size(), 1u);
}

TEST_F(ZooKeeperClientTest, WatchReportsCreationAndDataChange) {
  WatchLog created;
  absl::StatusOr<std::optional<NodeStat>> absent =
      client_->Watch("/later", created.Callback());
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());
  std::unique_ptr<ZooKeeperClient> other = Connect(zk_->ConnectString());
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Create("/later", "1", CreateMode::kPersistent).ok());
  ASSERT_TRUE(created.WaitForMoreThan(0, milliseconds(3000)));
  EXPECT_EQ(created.events()[0].type, WatchEvent::Type::kCreated);

  WatchLog changed;
  absl::StatusOr<std::optional<NodeStat>> present =
      client_->Watch("/later", changed.Callback());
  ASSERT_TRUE(present.ok()) << present.status();
  ASSERT_TRUE(present->has_value());
  ASSERT_TRUE(other->Set("/later", "2", (*present)->version).ok());
  ASSERT_TRUE(changed.WaitForMoreThan(0, milliseconds(3000)));
  EXPECT_EQ(changed.events()[0].type, WatchEvent::Type::kDataChanged);
}

TEST_F(ZooKeeperClientTest, ChrootConfinesPaths) {
  ASSERT_TRUE(client_->Create("/jail", "", CreateMode::kPersistent).ok());
  std::unique_ptr<ZooKeeperClient> jailed =
      Connect(zk_->ConnectString() + "/jail");
  ASSERT_NE(jailed, nullptr);
  ASSERT_TRUE(jailed->Create("/inside", "x", CreateMode::kPersistent).ok());

  absl::StatusOr<Node> from_root = client_->Get("/jail/inside");
  ASSERT_TRUE(from_root.ok()) << from_root.status();
  EXPECT_EQ(from_root->value, "x");
  absl::StatusOr<std::optional<NodeStat>> outside = client_->Exists("/inside");
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_FALSE(outside->has_value());
  // The jailed client cannot name anything above its root.
  absl::StatusOr<std::optional<NodeStat>> above = jailed->Exists("/jail");
  ASSERT_TRUE(above.ok()) << above.status();
  EXPECT_FALSE(above->has_value());
  absl::StatusOr<std::vector<std::string>> listed = jailed->Children("/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, ElementsAre("inside"));
}

TEST_F(ZooKeeperClientTest, DigestAuthKeepsOthersOut) {
  ZooKeeperOptions alice_options = Options(zk_->ConnectString());
  alice_options.digest_auth = "alice:secret";
  std::unique_ptr<ZooKeeperClient> alice = Connect(alice_options);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->Create("/alice", "mine", CreateMode::kPersistent).ok());

  // No auth: the creator-all ACL refuses reads and writes.
  absl::StatusOr<NodeStat> write =
      client_->Set("/alice", "theirs", kAnyVersion);
  EXPECT_EQ(write.status().code(), absl::StatusCode::kPermissionDenied)
      << write.status();
  EXPECT_EQ(client_->Get("/alice").status().code(),
            absl::StatusCode::kPermissionDenied);

  // A wrong password is not refused at connection (the digest scheme only
  // hashes what it is given) but on the node, at once.
  ZooKeeperOptions wrong = alice_options;
  wrong.digest_auth = "alice:wrong";
  std::unique_ptr<ZooKeeperClient> mallory = Connect(wrong);
  ASSERT_NE(mallory, nullptr);
  const auto start = steady_clock::now();
  absl::StatusOr<NodeStat> forged = mallory->Set("/alice", "forged", 0);
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kPermissionDenied)
      << forged.status();
  EXPECT_LT(Since(start), milliseconds(2000));

  std::unique_ptr<ZooKeeperClient> alice_again = Connect(alice_options);
  ASSERT_NE(alice_again, nullptr);
  ASSERT_TRUE(alice_again->Set("/alice", "still mine", 0).ok());
  absl::StatusOr<Node> node = alice->Get("/alice");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->value, "still mine");

  ZooKeeperOptions malformed = alice_options;
  malformed.digest_auth = "no-colon";
  EXPECT_EQ(ZooKeeperClient::Connect(malformed).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// SIGSTOP the server for less than the session timeout: calls give up at
// their own deadline, and a write that gave up is still applied once the
// server answers again.
TEST_F(ZooKeeperClientTest, CallGivesUpAtItsDeadlineAndMayStillApply) {
  ASSERT_TRUE(client_->Create("/slow", "before", CreateMode::kPersistent).ok());
  ZooKeeperOptions options = Options(zk_->ConnectString());
  options.call_timeout = milliseconds(300);
  std::unique_ptr<ZooKeeperClient> impatient = Connect(options);
  ASSERT_NE(impatient, nullptr);

  ASSERT_OK(zk_->Pause(0));
  const auto start = steady_clock::now();
  const absl::Status read = impatient->Exists("/slow").status();
  const milliseconds took = Since(start);
  const absl::Status write =
      impatient->Set("/slow", "after", kAnyVersion).status();
  ASSERT_OK(zk_->Resume(0));
  EXPECT_EQ(read.code(), absl::StatusCode::kDeadlineExceeded) << read;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(write.code(), absl::StatusCode::kDeadlineExceeded) << write;

  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<Node> node = client_->Get("/slow");
        return node.ok() && node->value == "after";
      },
      milliseconds(5000)));
  EXPECT_EQ(impatient->state(), SessionState::kConnected);
}

TEST_F(ZooKeeperClientTest, MultiAppliesAllOrNoneAndNamesTheFailedOp) {
  ASSERT_TRUE(client_->Create("/m", "0", CreateMode::kPersistent).ok());
  absl::StatusOr<MultiResult> applied =
      client_->Multi({Op::Check("/m", 0), Op::Set("/m", "1", 0),
                      Op::Create("/m2", "x", CreateMode::kPersistent)});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->failed_op, -1);
  EXPECT_EQ(applied->stats[1].version, 1);
  // The second op fails (the version moved): nothing is applied.
  absl::StatusOr<MultiResult> refused =
      client_->Multi({Op::Delete("/m2", kAnyVersion), Op::Set("/m", "2", 0)});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->failed_op, 1);
  EXPECT_TRUE(IsBadVersion(refused->error)) << refused->error;
  EXPECT_THAT(refused->error.message(), HasSubstr("set /m"));
  EXPECT_TRUE(client_->Exists("/m2")->has_value());
  EXPECT_EQ(client_->Get("/m")->value, "1");
}

// A multi that gets no answer because the connection dropped is an error
// of the call (kUnavailable), not a failure of its first operation: the C
// client then marks every operation with the connection loss.
TEST_F(ZooKeeperClientTest, MultiCutOffByConnectionLossIsUnavailable) {
  ASSERT_TRUE(client_->Create("/cut", "0", CreateMode::kPersistent).ok());
  ASSERT_OK(zk_->Pause(0));
  absl::StatusOr<MultiResult> result;
  std::thread call([&] {
    result = client_->Multi({Op::Check("/cut", 0), Op::Set("/cut", "1", 0)});
  });
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_OK(zk_->Kill(0));  // The connection drops with the call pending.
  call.join();
  ASSERT_FALSE(result.ok())
      << "failed_op " << result->failed_op << ": " << result->error;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable)
      << result.status();
}

// Calls pending when the session is found expired (the server frozen past
// the session timeout): each completes once, as an error, whether its
// caller still waits or gave up; a call after the expiry is refused, never
// sent; and the client closes cleanly after.
//
// Whether the session expires is the server's race on resume: its expiry
// thread and the client's reconnect (which revalidates the session) both
// run as soon as the JVM continues, and it may also apply the requests it
// had received before the freeze. An attempt whose session survived is
// repeated with a new client; what the server applied is not checked.
TEST_F(ZooKeeperClientTest, CallsPendingAtExpiryCompleteOnceAsErrors) {
  ASSERT_TRUE(client_->Create("/exp", "0", CreateMode::kPersistent).ok());
  ZooKeeperOptions options = Options(zk_->ConnectString());
  options.session_timeout = milliseconds(1000);
  options.call_timeout = milliseconds(300);
  constexpr int kAttempts = 4;
  std::unique_ptr<ZooKeeperClient> doomed;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    doomed = Connect(options);
    ASSERT_NE(doomed, nullptr);
    ASSERT_OK(zk_->Pause(0));
    // Given up on (no reply within 300 ms), and left pending.
    EXPECT_FALSE(doomed
                     ->Multi({Op::Check("/exp", kAnyVersion),
                              Op::Set("/exp", "1", kAnyVersion)})
                     .ok());
    EXPECT_FALSE(doomed->Set("/exp", "2", kAnyVersion).ok());
    std::this_thread::sleep_for(milliseconds(2000));
    ASSERT_OK(zk_->Resume(0));
    if (Eventually([&] { return doomed->state() == SessionState::kExpired; },
                   milliseconds(10000))) {
      break;
    }
    std::fprintf(stderr, "attempt %d: the server revalidated the session\n",
                 attempt);
    doomed.reset();
  }
  ASSERT_NE(doomed, nullptr)
      << "the session never expired in " << kAttempts << " attempts";
  absl::StatusOr<MultiResult> after = doomed->Multi(
      {Op::Check("/exp", kAnyVersion), Op::Set("/exp", "3", kAnyVersion)});
  EXPECT_FALSE(after.ok());
  EXPECT_TRUE(IsSessionExpired(after.status())) << after.status();
  doomed.reset();
  EXPECT_NE(client_->Get("/exp")->value, "3");
}

TEST(ZooKeeperConnectTest, DeadPortIsUnavailableWithinTheDeadline) {
  // Port 1 on loopback: privileged, nothing listens, connections refused.
  ZooKeeperOptions options = Options("127.0.0.1:1");
  options.connect_timeout = milliseconds(1000);
  const auto start = steady_clock::now();
  absl::StatusOr<std::unique_ptr<ZooKeeperClient>> client =
      ZooKeeperClient::Connect(options);
  const milliseconds took = Since(start);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable)
      << client.status();
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("127.0.0.1:1"));
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(2500));

  EXPECT_EQ(ZooKeeperClient::Connect(Options("")).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status malformed =
      ZooKeeperClient::Connect(Options("127.0.0.1")).status();
  EXPECT_EQ(malformed.code(), absl::StatusCode::kInvalidArgument) << malformed;
}

// Tests that share one 3-member ensemble. Each leaves every member running.
class ZooKeeperEnsembleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { zk_ = StartZooKeeper(3).release(); }
  static void TearDownTestSuite() {
    delete zk_;
    zk_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(zk_, nullptr); }

  static inline ZooKeeperLauncher* zk_ = nullptr;
};

TEST_F(ZooKeeperEnsembleTest, ConnectsThroughEveryMember) {
  ::testing::Test::RecordProperty(
      "start_ms", static_cast<int>(zk_->start_duration().count()));
  int leaders = 0;
  for (int i = 0; i < zk_->size(); ++i) {
    absl::StatusOr<std::string> mode = zk_->Mode(i);
    ASSERT_TRUE(mode.ok()) << mode.status();
    leaders += *mode == "leader";
  }
  EXPECT_EQ(leaders, 1);

  std::unique_ptr<ZooKeeperClient> writer = Connect(zk_->ConnectString());
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Create("/ensemble", "v", CreateMode::kPersistent).ok());
  for (int i = 0; i < zk_->size(); ++i) {
    std::unique_ptr<ZooKeeperClient> reader = Connect(zk_->ClientAddress(i));
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(reader->connected_server(), zk_->ClientAddress(i));
    // A follower may apply the write a moment after the leader.
    EXPECT_TRUE(Eventually(
        [&] {
          absl::StatusOr<Node> node = reader->Get("/ensemble");
          return node.ok() && node->value == "v";
        },
        milliseconds(3000)))
        << "member " << i;
  }
}

TEST_F(ZooKeeperEnsembleTest, SessionSurvivesTheLossOfOneMember) {
  SessionLog session;
  ZooKeeperOptions options = Options(zk_->ConnectString());
  options.session_timeout = milliseconds(10000);
  options.on_session_event = session.Callback();
  std::unique_ptr<ZooKeeperClient> client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Create("/survivor", "", CreateMode::kEphemeral).ok());
  const int64_t session_id = client->session_id();
  WatchLog watch;
  absl::StatusOr<std::optional<NodeStat>> watched =
      client->Watch("/survivor", watch.Callback());
  ASSERT_TRUE(watched.ok()) << watched.status();
  ASSERT_TRUE(watched->has_value());
  int victim = -1;
  for (int i = 0; i < zk_->size(); ++i) {
    if (zk_->ClientAddress(i) == client->connected_server()) victim = i;
  }
  ASSERT_GE(victim, 0) << client->connected_server();

  const size_t seen = session.events().size();
  ASSERT_OK(zk_->Kill(victim));
  EXPECT_TRUE(
      session.WaitFor(Is(SessionState::kConnecting), milliseconds(5000), seen));
  EXPECT_TRUE(
      session.WaitFor(Is(SessionState::kConnected), milliseconds(9000), seen));
  EXPECT_EQ(client->session_id(), session_id);
  EXPECT_NE(client->connected_server(), zk_->ClientAddress(victim));
  absl::StatusOr<std::optional<NodeStat>> node = client->Exists("/survivor");
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_TRUE(node->has_value());
  EXPECT_EQ((*node)->ephemeral_owner, session_id);
  EXPECT_THAT(session.events(),
              ::testing::Not(::testing::Contains(SessionState::kExpired)));
  // The watch was told of the drop, and is still armed.
  ASSERT_GE(watch.events().size(), 1u);
  EXPECT_EQ(watch.events()[0].type, WatchEvent::Type::kDisconnected);
  const size_t drops = watch.events().size();
  ASSERT_TRUE(client->Delete("/survivor", kAnyVersion).ok());
  ASSERT_TRUE(watch.WaitForMoreThan(drops, milliseconds(3000)));
  EXPECT_EQ(watch.events().back().type, WatchEvent::Type::kDeleted);

  ASSERT_OK(zk_->Restart(victim));
}

// Expiry needs the ensemble to go on while the client's server is silent:
// SIGSTOP the follower the client talks to (and only to). The leader drops
// the follower after syncLimit, hears nothing more of the session, and
// expires it after its timeout; the client, cut off, only sees CONNECTING.
// When the follower resumes and rejoins, the client's reconnection is told
// the session is gone: EXPIRED. Stopping the whole ensemble instead would
// not work: servers restore sessions from their log and restart their
// timeouts, so a client that reconnects in time keeps its session.
TEST_F(ZooKeeperEnsembleTest, SessionExpiresWhileItsServerIsFrozen) {
  const int follower = zk_->FindMember("follower");
  ASSERT_GE(follower, 0);
  std::vector<int> others;
  for (int i = 0; i < zk_->size(); ++i) {
    if (i != follower) others.push_back(i);
  }
  SessionLog session;
  ZooKeeperOptions options = Options(zk_->ClientAddress(follower));
  options.session_timeout = milliseconds(2000);
  options.on_session_event = session.Callback();
  std::unique_ptr<ZooKeeperClient> victim = Connect(options);
  ASSERT_NE(victim, nullptr);
  ASSERT_EQ(victim->negotiated_session_timeout(), milliseconds(2000));
  ASSERT_TRUE(victim->Create("/doomed", "", CreateMode::kEphemeral).ok());

  WatchLog watch;
  std::unique_ptr<ZooKeeperClient> observer =
      Connect(zk_->ConnectString(others));
  ASSERT_NE(observer, nullptr);
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::optional<NodeStat>> stat =
            observer->Exists("/doomed");
        return stat.ok() && stat->has_value();
      },
      milliseconds(3000)));
  absl::StatusOr<std::optional<NodeStat>> stat =
      observer->Watch("/doomed", watch.Callback());
  ASSERT_TRUE(stat.ok()) << stat.status();
  ASSERT_TRUE(stat->has_value());

  ASSERT_OK(zk_->Pause(follower));
  const auto paused = steady_clock::now();
  const bool deleted = watch.WaitForMoreThan(0, milliseconds(10000));
  // Before resuming, so that a failed assertion leaves no member frozen.
  const SessionState victim_state = victim->state();
  const int64_t now = BootTimeMicros();
  ASSERT_OK(zk_->Resume(follower));
  ASSERT_TRUE(deleted) << "the session did not expire";
  EXPECT_EQ(watch.events()[0].type, WatchEvent::Type::kDeleted);
  EXPECT_GE(Since(paused), milliseconds(1000));
  // The C client cannot know yet: it is still trying to reconnect.
  EXPECT_EQ(victim_state, SessionState::kConnecting);
  // The fencing bound held: no expiry before last heard + timeout.
  EXPECT_GE(now, victim->last_heard_micros() + int64_t{2000} * 1000);

  EXPECT_TRUE(session.WaitFor(Is(SessionState::kExpired), milliseconds(15000)));
  EXPECT_EQ(victim->state(), SessionState::kExpired);
  const absl::Status after = victim->Exists("/doomed").status();
  EXPECT_EQ(after.code(), absl::StatusCode::kUnavailable) << after;
  EXPECT_TRUE(IsSessionExpired(after)) << after;
  ASSERT_OK(zk_->WaitServing(follower));
}

}  // namespace
}  // namespace snowflake::zookeeper
