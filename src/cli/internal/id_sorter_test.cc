#include "src/cli/internal/id_sorter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <vector>

namespace snowflake::cli::internal {
namespace {

// Every distinct ID once, in order, with its exact count: against a map.
void ExpectCountsMatch(int64_t buffer_ids, int64_t ids, uint64_t range) {
  auto sorter = IdSorter::Create("", buffer_ids);
  ASSERT_TRUE(sorter.ok()) << sorter.status();
  std::mt19937_64 random(buffer_ids * 7919 + ids);
  std::map<uint64_t, uint64_t> expected;
  for (int64_t i = 0; i < ids; ++i) {
    const uint64_t id = random() % range;
    ++expected[id];
    ASSERT_TRUE((*sorter)->Add(id).ok());
  }
  std::vector<std::pair<uint64_t, uint64_t>> got;
  ASSERT_TRUE((*sorter)
                  ->Finish([&got](uint64_t id, uint64_t count) {
                    got.emplace_back(id, count);
                  })
                  .ok());
  const std::vector<std::pair<uint64_t, uint64_t>> want(expected.begin(),
                                                        expected.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ((*sorter)->runs(), ids <= buffer_ids
                                   ? (ids == buffer_ids ? 1 : 0)
                                   : (ids + buffer_ids - 1) / buffer_ids);
}

TEST(IdSorterTest, InMemoryWhenItFits) { ExpectCountsMatch(1000, 999, 300); }

TEST(IdSorterTest, SpilledRunsMergeToExactCounts) {
  ExpectCountsMatch(97, 10'000, 5'000);  // 104 runs, many repeats.
}

TEST(IdSorterTest, RepeatsAcrossRunBoundaries) {
  ExpectCountsMatch(1, 50, 3);  // Every ID its own run.
}

TEST(IdSorterTest, RunFilesAreRemoved) {
  const auto tmp = std::filesystem::temp_directory_path() / "id_sorter_test";
  std::filesystem::create_directories(tmp);
  {
    auto sorter = IdSorter::Create(tmp.string(), 2);
    ASSERT_TRUE(sorter.ok());
    for (uint64_t id : {5, 3, 9, 1, 3}) ASSERT_TRUE((*sorter)->Add(id).ok());
    EXPECT_FALSE(std::filesystem::is_empty(tmp));
  }
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  std::filesystem::remove(tmp);
}

TEST(IdSorterTest, BadBufferAndFolderAreErrors) {
  EXPECT_EQ(IdSorter::Create("", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status missing = IdSorter::Create("/nonexistent/dir", 10).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(missing.message().find("/nonexistent/dir"), absl::string_view::npos)
      << missing;
}

}  // namespace
}  // namespace snowflake::cli::internal
