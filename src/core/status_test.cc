#include "snowflake/status.h"

#include "gtest/gtest.h"

namespace snowflake {
namespace {

TEST(StatusTest, KindAndDriftRoundTrip) {
  absl::Status s = MakeError(absl::StatusCode::kUnavailable,
                             ErrorKind::kClockBackwards, "behind", 42);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "behind");
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kClockBackwards);
  ASSERT_TRUE(GetDriftMillis(s).has_value());
  EXPECT_EQ(*GetDriftMillis(s), 42);
}

TEST(StatusTest, NoDriftWhenNotGiven) {
  absl::Status s =
      MakeError(absl::StatusCode::kUnavailable, ErrorKind::kStopped, "stopped");
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kStopped);
  EXPECT_FALSE(GetDriftMillis(s).has_value());
  EXPECT_FALSE(GetRetryDelayMillis(s).has_value());
}

// Issue 9 point 11: the drift (a measurement) and the retry delay (how long
// to wait) are separate fields; either may be absent.
TEST(StatusTest, RetryDelayIsSeparateFromDrift) {
  absl::Status both = MakeError(absl::StatusCode::kUnavailable,
                                ErrorKind::kClockBackwards, "behind", 42, 50);
  EXPECT_EQ(GetErrorKind(both), ErrorKind::kClockBackwards);
  EXPECT_EQ(GetDriftMillis(both), 42);
  EXPECT_EQ(GetRetryDelayMillis(both), 50);
  absl::Status delay_only =
      MakeError(absl::StatusCode::kUnavailable, ErrorKind::kHighWaterMark,
                "hwm", std::nullopt, 7);
  EXPECT_EQ(GetErrorKind(delay_only), ErrorKind::kHighWaterMark);
  EXPECT_FALSE(GetDriftMillis(delay_only).has_value());
  EXPECT_EQ(GetRetryDelayMillis(delay_only), 7);
  absl::Status drift_only = MakeError(absl::StatusCode::kUnavailable,
                                      ErrorKind::kClockBackwards, "x", 3);
  EXPECT_EQ(GetDriftMillis(drift_only), 3);
  EXPECT_FALSE(GetRetryDelayMillis(drift_only).has_value());
}

TEST(StatusTest, ForeignStatusHasNoKind) {
  EXPECT_EQ(GetErrorKind(absl::OkStatus()), ErrorKind::kNone);
  EXPECT_EQ(GetErrorKind(absl::InternalError("x")), ErrorKind::kNone);
  EXPECT_FALSE(GetDriftMillis(absl::InternalError("x")).has_value());
  EXPECT_FALSE(GetRetryDelayMillis(absl::InternalError("x")).has_value());
}

TEST(StatusTest, KindNames) {
  EXPECT_EQ(ErrorKindName(ErrorKind::kClockBackwards), "clock_backwards");
  EXPECT_EQ(ErrorKindName(ErrorKind::kHighWaterMark), "high_water_mark");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTimeRangeExhausted),
            "time_range_exhausted");
  EXPECT_EQ(ErrorKindName(ErrorKind::kStopped), "stopped");
  EXPECT_EQ(ErrorKindName(ErrorKind::kWouldWait), "would_wait");
  EXPECT_EQ(ErrorKindName(ErrorKind::kClockBeforeEpoch), "clock_before_epoch");
}

}  // namespace
}  // namespace snowflake
