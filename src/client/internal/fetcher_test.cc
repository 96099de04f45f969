#include "src/client/internal/fetcher.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "src/client/internal/fake_transport.h"
#include "testing/simulated_clock.h"

namespace snowflake::client::internal {
namespace {

using ::snowflake::testing::SimulatedClock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kA[] = "http://a:80";
constexpr char kB[] = "http://b:80";
constexpr char kC[] = "http://c:80";

absl::Status Unavailable(const std::string& why,
                         std::optional<int64_t> retry_millis = std::nullopt) {
  return MakeError(absl::StatusCode::kUnavailable, ErrorKind::kNone, why,
                   std::nullopt, retry_millis);
}

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest()
      : clock_(1'000'000'000),
        time_(&clock_),
        nodes_(fakes_.Factory()),
        fetcher_(nodes_, time_, FetcherOptions{500'000, 1'000'000},
                 [this] { ++all_failed_; }) {
    nodes_.Set({{"a", 80}, {"b", 80}, {"c", 80}});
  }

  int64_t Now() { return clock_.NowMicros(); }
  FakeTransport& Of(const char* url) { return *fakes_.Of(url); }

  SimulatedClock clock_;
  TimeSource time_;
  FakeTransports fakes_;
  NodeSet nodes_;
  Fetcher fetcher_;
  int all_failed_ = 0;
};

TEST_F(FetcherTest, AnUnavailableNodeIsSkippedForItsRetryAfter) {
  Of(kA).Then(Unavailable("node a answered 503 busy", 3000));
  Of(kB).StartAt(100);
  const int64_t start = Now();
  absl::StatusOr<Fetched> fetched = fetcher_.Fetch(3, start + 2'000'000);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_THAT(fetched->ids, ElementsAre(100, 101, 102));
  EXPECT_EQ(fetched->requested_at, start);
  EXPECT_EQ(fetcher_.requests(), 2u);
  EXPECT_EQ(fetcher_.failovers(), 1u);
  EXPECT_EQ(Of(kA).resets(), 1);  // Its idle connections are dropped.

  // a is skipped for its 3 s, c and b take turns meanwhile.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(fetcher_.Fetch(1, Now() + 1).ok());
  EXPECT_EQ(Of(kA).calls(), 1);
  clock_.AdvanceMillis(3000);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fetcher_.Fetch(1, Now() + 1).ok());
  EXPECT_EQ(Of(kA).calls(), 2);
  EXPECT_EQ(all_failed_, 0);
}

TEST_F(FetcherTest, WithoutRetryAfterTheDefaultBackoffApplies) {
  Of(kA).Then(Unavailable("node a dropped the connection"));
  ASSERT_TRUE(fetcher_.Fetch(1, Now() + 2'000'000).ok());
  clock_.AdvanceMillis(999);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(fetcher_.Fetch(1, Now() + 1).ok());
  EXPECT_EQ(Of(kA).calls(), 1);
  clock_.AdvanceMillis(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fetcher_.Fetch(1, Now() + 1).ok());
  EXPECT_EQ(Of(kA).calls(), 2);
}

TEST_F(FetcherTest, PermanentErrorsComeBackAtOnceAndAreNeverRetried) {
  for (const absl::Status& permanent :
       {absl::InvalidArgumentError("node a answered 400"),
        absl::OutOfRangeError("node a answered 413 too_large"),
        absl::FailedPreconditionError("node a answered 500"),
        absl::InternalError("node a answered 500 internal")}) {
    nodes_.Set({{"a", 80}});
    Of(kA).Then(permanent);
    const int before = Of(kA).calls();
    absl::StatusOr<Fetched> fetched = fetcher_.Fetch(5, Now() + 2'000'000);
    EXPECT_EQ(fetched.status(), permanent);
    EXPECT_EQ(Of(kA).calls(), before + 1);
    // The node is not skipped: it answered.
    EXPECT_TRUE(fetcher_.Fetch(1, Now() + 1).ok());
  }
  EXPECT_EQ(fetcher_.failovers(), 0u);
}

TEST_F(FetcherTest, AllNodesDownFailsWithinTheDeadlineNamingEach) {
  for (const char* url : {kA, kB, kC}) {
    Of(url).Always([url](int64_t) -> absl::StatusOr<std::vector<uint64_t>> {
      return Unavailable(std::string("node ") + url + ": connection refused");
    });
  }
  const int64_t start = Now();
  absl::StatusOr<Fetched> fetched = fetcher_.Fetch(1, start + 2'000'000);
  ASSERT_FALSE(fetched.ok());
  // Each tried, skipped 1 s, tried again after the 1 s wait; the next
  // round would start past the deadline.
  EXPECT_EQ(fetched.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LE(Now() - start, 2'000'000);
  EXPECT_EQ(Of(kA).calls(), 2);
  EXPECT_EQ(Of(kC).calls(), 2);
  EXPECT_GE(all_failed_, 1);
  const std::string message(fetched.status().message());
  EXPECT_THAT(message, HasSubstr("all 3 nodes are unavailable"));
  for (const char* url : {kA, kB, kC}) EXPECT_THAT(message, HasSubstr(url));
  EXPECT_TRUE(GetRetryDelayMillis(fetched.status()).has_value());
  EXPECT_EQ(fetcher_.failovers(), 5u);
}

TEST_F(FetcherTest, ASilentNodeCostsOneAttemptTimeoutThenTheNextAnswers) {
  Of(kA).Always([this](int64_t) -> absl::StatusOr<std::vector<uint64_t>> {
    clock_.AdvanceMicros(Of(kA).last_timeout().count() * 1000);
    return Unavailable("node a: no answer within 500 ms");
  });
  const int64_t start = Now();
  absl::StatusOr<Fetched> fetched = fetcher_.Fetch(2, start + 2'000'000);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(Of(kA).last_timeout(), std::chrono::milliseconds(500));
  EXPECT_EQ(Now() - start, 500'000);
  EXPECT_EQ(fetched->requested_at, start + 500'000);  // b's request.
}

TEST_F(FetcherTest, TheDeadlineBoundsEveryAttempt) {
  nodes_.Set({{"a", 80}});
  Of(kA).Always([this](int64_t) -> absl::StatusOr<std::vector<uint64_t>> {
    clock_.AdvanceMicros(Of(kA).last_timeout().count() * 1000);
    return Unavailable("node a: no answer");
  });
  FetcherOptions slow{5'000'000, 10};  // Attempts longer than the deadline.
  Fetcher fetcher(nodes_, time_, slow, nullptr);
  const int64_t start = Now();
  absl::StatusOr<Fetched> fetched = fetcher.Fetch(1, start + 300'000);
  EXPECT_EQ(fetched.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(fetched.status().message()),
              HasSubstr("no node answered within 300 ms: node a"));
  EXPECT_EQ(Of(kA).last_timeout(), std::chrono::milliseconds(300));
  EXPECT_EQ(Now() - start, 300'000);
}

TEST_F(FetcherTest, NoNodeKnownWaitsForDiscoveryUntilTheDeadline) {
  nodes_.Set({});
  const int64_t start = Now();
  absl::StatusOr<Fetched> fetched = fetcher_.Fetch(1, start + 100'000);
  EXPECT_EQ(fetched.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(all_failed_, 1);
}

}  // namespace
}  // namespace snowflake::client::internal
