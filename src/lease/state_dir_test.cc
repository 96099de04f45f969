#include "src/lease/state_dir.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/static_lease.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "state_dir_test.XXXXXX")
          .string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

TEST(StateDirTest, ASecondNodeOnTheSameDirectoryIsRefused) {
  const std::string dir = TempDir() + "/node";
  auto first = StateDir::Open(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE((*first)->fresh());
  auto second = StateDir::Open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr(dir));
  EXPECT_THAT(second.status().message(),
              HasSubstr("pid " + std::to_string(::getpid())));
  // Released with the first: the directory can be used again.
  first->reset();
  EXPECT_TRUE(StateDir::Open(dir).ok());
}

TEST(StateDirTest, FreshOnlyWithoutMarksOrIdentity) {
  const std::string dir = TempDir();
  {
    auto state = StateDir::Open(dir);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE((*state)->fresh());
    auto store = FileHwmStore::Open(StaticHwmPath(dir, 4));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Store(1234).ok());
  }
  auto again = StateDir::Open(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)->fresh());
}

TEST(StateDirTest, WorkersWithHwmListsOnlyMarkFiles) {
  const std::string dir = TempDir();
  EXPECT_TRUE(WorkersWithHwm(dir).empty());
  EXPECT_TRUE(WorkersWithHwm(dir + "/missing").empty());
  for (int64_t id : {1023, 0, 17}) {
    auto store = FileHwmStore::Open(StaticHwmPath(dir, id));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Store(1234).ok());
  }
  for (const char* other : {"hwm-worker-", "hwm-worker-5.tmp", "hwm-worker-05",
                            "hwm-worker-x", "identity-default", "lock"}) {
    FILE* f = std::fopen((dir + "/" + other).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  EXPECT_EQ(WorkersWithHwm(dir), (std::vector<int64_t>{0, 17, 1023}));
}

TEST(StateDirTest, FlooredStoreLoadsTheLargerAndWritesBoth) {
  const std::string dir = TempDir();
  auto local = FileHwmStore::Open(dir + "/local");
  auto remote = FileHwmStore::Open(dir + "/remote");
  ASSERT_TRUE(local.ok() && remote.ok());
  FileHwmStore& remote_store = **remote;
  ASSERT_TRUE((*local)->Store(500).ok());
  FlooredHwmStore floored(*std::move(local), remote_store);
  EXPECT_EQ(floored.Load()->value(), 500);  // The remote has none.
  ASSERT_TRUE(remote_store.Store(900).ok());
  EXPECT_EQ(floored.Load()->value(), 900);
  ASSERT_TRUE(floored.Store(1000).ok());
  EXPECT_EQ(floored.local().Load()->value(), 1000);
  EXPECT_EQ(remote_store.Load()->value(), 1000);
  // A remote that cannot be written fails the store (the generator's bound
  // is then not raised), though the local floor already took it.
  std::filesystem::create_directories(dir + "/remote.tmp");
  EXPECT_FALSE(floored.Store(2000).ok());
  EXPECT_EQ(floored.local().Load()->value(), 2000);
}

}  // namespace
}  // namespace snowflake
