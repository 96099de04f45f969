#include "src/lease/protocol/timing.h"

#include "gtest/gtest.h"

namespace snowflake::lease_protocol {
namespace {

TEST(TimingTest, MarginIsATenthOfTheTtlAndAtLeast200Ms) {
  EXPECT_EQ(SafetyMarginMillis(30'000), 3'000);
  EXPECT_EQ(SafetyMarginMillis(2'000), 200);
  EXPECT_EQ(SafetyMarginMillis(1'000), 200);
  EXPECT_EQ(SafetyMarginMillis(60'000), 6'000);
}

TEST(TimingTest, KeepAliveEveryThirdOfTheTtlAndAtMost10PerSecond) {
  EXPECT_EQ(KeepAlivePeriodMillis(30'000), 10'000);
  EXPECT_EQ(KeepAlivePeriodMillis(1'000), 333);
  EXPECT_EQ(KeepAlivePeriodMillis(200), 100);
}

TEST(TimingTest, TakeoverWaitIsOneKeepAliveTheMarginAndTheSkew) {
  // docs/operations.md: with the defaults 10 s + 3 s + 1 s.
  EXPECT_EQ(TakeoverWaitMillis(30'000, 1'000), 14'000);
  EXPECT_EQ(TakeoverWaitMillis(2'000, 700), 1'566);
}

TEST(TimingTest, DeadlineIsTheConfirmedSendPlusTtlMinusMargin) {
  EXPECT_EQ(FencingDeadlineMicros(5'000'000, 60'000),
            5'000'000 + 60'000'000 - 6'000'000);
}

TEST(TimingTest, OnlyATakeoverOfSomeoneElsesHistoryWaits) {
  EXPECT_EQ(TakeoverWaitForClaim(true, false, false, 30'000, 1'000), 14'000);
  EXPECT_EQ(TakeoverWaitForClaim(false, false, false, 30'000, 1'000), 0);
  EXPECT_EQ(TakeoverWaitForClaim(true, true, false, 30'000, 1'000), 0);
  EXPECT_EQ(TakeoverWaitForClaim(true, false, true, 30'000, 1'000), 0);
}

TEST(TimingTest, PresumedExpiredExactlyAtTheDeadlineAndOnlyWhileHeld) {
  EXPECT_FALSE(ViewDeadline(10'000, 9'999, true).presumed_expired);
  EXPECT_TRUE(ViewDeadline(10'000, 10'000, true).presumed_expired);
  EXPECT_FALSE(ViewDeadline(10'000, 20'000, false).presumed_expired);
  EXPECT_EQ(ViewDeadline(10'000'000, 7'500'000, true).expires_in_millis, 2'500);
  EXPECT_EQ(ViewDeadline(10'000, 20'000, true).expires_in_millis, 0);
}

}  // namespace
}  // namespace snowflake::lease_protocol
