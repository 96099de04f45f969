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
  absl::Status s = MakeError(absl::StatusCode::kFailedPrecondition,
                             ErrorKind::kStopped, "stopped");
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kStopped);
  EXPECT_FALSE(GetDriftMillis(s).has_value());
}

TEST(StatusTest, ForeignStatusHasNoKind) {
  EXPECT_EQ(GetErrorKind(absl::OkStatus()), ErrorKind::kNone);
  EXPECT_EQ(GetErrorKind(absl::InternalError("x")), ErrorKind::kNone);
  EXPECT_FALSE(GetDriftMillis(absl::InternalError("x")).has_value());
}

TEST(StatusTest, KindNames) {
  EXPECT_EQ(ErrorKindName(ErrorKind::kClockBackwards), "clock_backwards");
  EXPECT_EQ(ErrorKindName(ErrorKind::kHighWaterMark), "high_water_mark");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTimeRangeExhausted),
            "time_range_exhausted");
  EXPECT_EQ(ErrorKindName(ErrorKind::kStopped), "stopped");
  EXPECT_EQ(ErrorKindName(ErrorKind::kClockBeforeEpoch), "clock_before_epoch");
}

}  // namespace
}  // namespace snowflake
