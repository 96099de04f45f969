#include "snowflake/layout.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;

TEST(LayoutTest, DefaultLimitsMatchHandComputedValues) {
  const LayoutLimits limits = Layout().Limits();
  EXPECT_EQ(limits.ids_per_tick, 4096);
  EXPECT_EQ(limits.workers, 1024);
  EXPECT_DOUBLE_EQ(limits.ids_per_second, 4096000.0);
  EXPECT_EQ(limits.max_tick, 2199023255551);  // 2^41 - 1.
  // 2^41 ms / (365.25 * 86400000 ms) = 69.683 years.
  EXPECT_NEAR(limits.years, 69.68, 0.01);
  // 1735689600000 + 2^41 = 3934712855552 ms: 2094-09-07T15:47:35.552Z.
  EXPECT_EQ(limits.end_millis, 3934712855552);
  EXPECT_EQ(FormatRfc3339Millis(limits.end_millis), "2094-09-07T15:47:35.552Z");
  // 2^53 >> 22 = 2^31 ticks after the epoch: 1735689600000 + 2147483648.
  EXPECT_EQ(limits.js_unsafe_from_millis, 1737837083648);
}

TEST(LayoutTest, TenMillisecondUnit) {
  absl::StatusOr<Layout> layout = Layout::Create({39, 8, 16, 10, 0});
  ASSERT_TRUE(layout.ok()) << layout.status();
  const LayoutLimits limits = layout->Limits();
  EXPECT_EQ(limits.ids_per_tick, 65536);
  EXPECT_EQ(limits.workers, 256);
  EXPECT_DOUBLE_EQ(limits.ids_per_second, 6553600.0);
  // 2^39 * 10 ms = 5497558138880 ms = 174.2 years.
  EXPECT_EQ(limits.end_millis, 5497558138880);
  EXPECT_NEAR(limits.years, 174.21, 0.01);
  EXPECT_EQ(layout->TickAtMicros(25'999), 2);
  EXPECT_EQ(layout->TickAtMicros(-1), -1);
  EXPECT_EQ(layout->MillisOfTick(3), 30);
}

TEST(LayoutTest, Js53PresetStaysBelowTwoToThe53) {
  absl::StatusOr<Layout> layout = Layout::Preset("js53");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->Limits().js_unsafe_from_millis, -1);
  const uint64_t biggest = layout->Compose(
      {layout->max_tick(), layout->max_worker(), layout->max_sequence()});
  EXPECT_EQ(biggest, (uint64_t{1} << 53) - 1);
}

TEST(LayoutTest, ComposeDecomposeRoundTrip) {
  const Layout layout;
  const IdParts parts{123456789, 1023, 4095};
  const uint64_t id = layout.Compose(parts);
  EXPECT_EQ(id, (uint64_t{123456789} << 22) | (1023u << 12) | 4095u);
  absl::StatusOr<IdParts> back = layout.Decompose(id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, parts);
}

TEST(LayoutTest, DecomposeRejectsSignBitAndBitsAboveLayout) {
  EXPECT_THAT(Layout().Decompose(uint64_t{1} << 63).status().message(),
              HasSubstr("sign bit"));
  absl::StatusOr<Layout> js = Layout::Preset("js53");
  ASSERT_TRUE(js.ok());
  EXPECT_FALSE(js->Decompose(uint64_t{1} << 53).ok());
  EXPECT_TRUE(js->Decompose((uint64_t{1} << 53) - 1).ok());
}

TEST(LayoutTest, TwitterPresetDecodesAKnownId) {
  absl::StatusOr<Layout> twitter = Layout::Preset("twitter");
  ASSERT_TRUE(twitter.ok());
  // 1541815603606036480 >> 22 = 367597485448; + 1288834974657 ms is
  // 2022-06-28T16:07:40.105Z; worker 378, sequence 0.
  absl::StatusOr<IdParts> parts = twitter->Decompose(1541815603606036480);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->tick, 367597485448);
  EXPECT_EQ(parts->worker, 378);
  EXPECT_EQ(parts->sequence, 0);
  EXPECT_EQ(FormatRfc3339Millis(twitter->MillisOfTick(parts->tick)),
            "2022-06-28T16:07:40.105Z");
}

TEST(LayoutTest, ValidationNamesTheField) {
  struct Case {
    LayoutSpec spec;
    std::string_view message;
  };
  const Case cases[] = {
      {{0, 10, 12, 1, 0}, "time_bits"},
      {{41, -1, 12, 1, 0}, "worker_bits"},
      {{41, 10, 0, 1, 0}, "sequence_bits"},
      {{42, 10, 12, 1, 0}, "at most 63"},
      {{41, 10, 12, 0, 0}, "unit"},
      {{41, 10, 12, 1001, 0}, "unit"},
      {{41, 10, 12, 1, -5}, "epoch"},
      {{41, 10, 12, 1, 4102444800001}, "epoch"},
      {{62, 0, 1, 1000, 0}, "year 9999"},
      {{48, 3, 12, 1, 0}, "year 9999"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Layout> layout = Layout::Create(c.spec);
    ASSERT_FALSE(layout.ok()) << c.message;
    EXPECT_EQ(layout.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(layout.status().message(), HasSubstr(c.message));
  }
}

TEST(LayoutTest, ParseWidths) {
  absl::StatusOr<Layout> layout = Layout::Parse("40/11/12");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->worker_bits(), 11);
  EXPECT_EQ(layout->epoch_millis(), kDefaultEpochMillis);
  EXPECT_FALSE(Layout::Parse("41/10").ok());
  EXPECT_FALSE(Layout::Parse("41/10/x").ok());
  EXPECT_FALSE(Layout::Parse("41/11/12").ok());
  EXPECT_FALSE(Layout::Parse("41/10/+12").ok());
  EXPECT_FALSE(Layout::Parse("41/ 10/12").ok());
}

TEST(LayoutTest, UnknownPresetListsKnownNames) {
  absl::StatusOr<Layout> layout = Layout::Preset("nope");
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(layout.status().message(), HasSubstr("twitter"));
  EXPECT_THAT(layout.status().message(), HasSubstr("discord"));
}

}  // namespace
}  // namespace snowflake
