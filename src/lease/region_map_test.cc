#include "src/lease/region_map.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(WorkerRangeTest, ParseAndContains) {
  absl::StatusOr<WorkerRange> range = ParseWorkerRange("342-683");
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(*range, (WorkerRange{342, 683}));
  EXPECT_EQ(range->ToString(), "342-683");
  EXPECT_EQ(range->size(), 342);
  EXPECT_TRUE(range->Contains(342));
  EXPECT_TRUE(range->Contains(683));
  EXPECT_FALSE(range->Contains(684));
  EXPECT_TRUE(range->Contains(WorkerRange{400, 500}));
  EXPECT_FALSE(range->Contains(WorkerRange{300, 500}));
  EXPECT_TRUE(range->Overlaps(WorkerRange{683, 700}));
  EXPECT_FALSE(range->Overlaps(WorkerRange{684, 700}));
  EXPECT_EQ(ParseWorkerRange("7-7").value(), (WorkerRange{7, 7}));
  for (const char* bad :
       {"", "5", "7-3", "a-b", "-1-4", "1-", "1-2-3", "+1-2"}) {
    absl::StatusOr<WorkerRange> r = ParseWorkerRange(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("A-B")) << bad;
  }
}

TEST(RegionMapTest, ParseFindAndCanonicalText) {
  absl::StatusOr<RegionMap> map = RegionMap::Parse("us=0-341,eu=342-683");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->size(), 2u);
  EXPECT_FALSE(map->empty());
  EXPECT_EQ(map->Find("us"), (WorkerRange{0, 341}));
  EXPECT_EQ(map->Find("eu"), (WorkerRange{342, 683}));
  EXPECT_FALSE(map->Find("ap").has_value());
  EXPECT_FALSE(map->Find("").has_value());
  // Sorted by name, whatever order it was written in.
  EXPECT_EQ(map->ToString(), "eu=342-683,us=0-341");
  EXPECT_EQ(map->Names(), "eu, us");
  absl::StatusOr<RegionMap> again = RegionMap::Parse(map->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *map);
  // Blanks around the pieces are fine.
  EXPECT_EQ(RegionMap::Parse(" eu = 342-683 , us=0-341 ").value(), *map);
  EXPECT_NE(RegionMap::Parse("us=0-341").value(), *map);
  EXPECT_NE(RegionMap::Parse("us=0-340,eu=342-683").value(), *map);
}

TEST(RegionMapTest, EmptyTextIsTheEmptyMap) {
  absl::StatusOr<RegionMap> map = RegionMap::Parse("");
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(map->empty());
  EXPECT_EQ(map->ToString(), "");
  EXPECT_EQ(map->Names(), "none");
  EXPECT_EQ(*map, RegionMap());
  EXPECT_TRUE(RegionMap::Parse("  ").value().empty());
}

TEST(RegionMapTest, BadEntriesAreNamed) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {
           Case{"us", "entry \"us\""},
           Case{"us=0-341,", "entry \"\""},
           Case{"us=0-341,,eu=342-683", "entry \"\""},
           Case{"us=341-0", "entry \"us=341-0\""},
           Case{"us=x", "entry \"us=x\""},
           Case{"=0-5", "region name"},
           Case{"u s=0-5", "region name"},
           Case{"eu.west=0-5", "region name"},
           Case{"us=0-5,us=6-9", "\"us\" appears twice"},
       }) {
    absl::StatusOr<RegionMap> map = RegionMap::Parse(c.text);
    ASSERT_FALSE(map.ok()) << c.text;
    EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(map.status().message(), HasSubstr(c.expect)) << c.text;
  }
}

TEST(RegionMapTest, OverlapNamesBothRegionsAndRanges) {
  absl::StatusOr<RegionMap> map = RegionMap::Parse("us=0-341,eu=341-683");
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(map.status().message(),
              AllOf(HasSubstr("us=0-341"), HasSubstr("eu=341-683"),
                    HasSubstr("overlap")));
  // A range inside another overlaps too.
  EXPECT_FALSE(RegionMap::Parse("a=0-100,b=10-20").ok());
  RegionMap manual;
  ASSERT_TRUE(manual.Add("a", {0, 9}).ok());
  EXPECT_FALSE(manual.Add("b", {9, 12}).ok());
  EXPECT_TRUE(manual.Add("b", {10, 12}).ok());
  EXPECT_EQ(manual.ToString(), "a=0-9,b=10-12");
}

TEST(RegionMapTest, ValidateAgainstTheLayoutsWorkerIds) {
  RegionMap map = RegionMap::Parse("us=0-341,eu=342-683,ap=684-1023").value();
  EXPECT_TRUE(map.Validate(1023).ok());
  absl::Status status = map.Validate(255);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("ap=684-1023"), HasSubstr("0-255")));
  EXPECT_TRUE(RegionMap().Validate(0).ok());
}

}  // namespace
}  // namespace snowflake
