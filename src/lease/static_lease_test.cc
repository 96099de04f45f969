#include "src/lease/static_lease.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace snowflake {
namespace {

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "static_lease_test.XXXXXX")
          .string();
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

TEST(StaticLeaseTest, PathIsPerWorker) {
  EXPECT_EQ(StaticHwmPath("/var/lib/snowflake", 7),
            "/var/lib/snowflake/hwm-worker-7");
  EXPECT_EQ(StaticHwmPath("state/", 0), "state/hwm-worker-0");
}

TEST(StaticLeaseTest, AcquireStoreReleaseAndReacquire) {
  const std::string dir = TempDir();
  {
    StaticLease lease(5, dir + "/nested");
    EXPECT_FALSE(lease.Valid());
    EXPECT_EQ(lease.Info().mode, "static");
    auto grant = lease.Acquire();
    ASSERT_TRUE(grant.ok()) << grant.status();
    EXPECT_EQ(grant->worker_id, 5);
    ASSERT_NE(grant->hwm_store, nullptr);
    EXPECT_TRUE(lease.Valid());
    EXPECT_TRUE(lease.Info().held);
    auto empty = grant->hwm_store->Load();
    ASSERT_TRUE(empty.ok()) << empty.status();
    EXPECT_FALSE(empty->has_value());
    ASSERT_TRUE(grant->hwm_store->Store(1234).ok());
    ASSERT_TRUE(lease.Release().ok());
    EXPECT_FALSE(lease.Valid());
    EXPECT_TRUE(lease.Release().ok());  // Idempotent.
  }
  StaticLease again(5, dir + "/nested");
  auto grant = again.Acquire();
  ASSERT_TRUE(grant.ok()) << grant.status();
  auto mark = grant->hwm_store->Load();
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->value_or(0), 1234);
  std::filesystem::remove_all(dir);
}

TEST(StaticLeaseTest, UnwritableStateDirFails) {
  StaticLease lease(1, "/proc/definitely/not/writable");
  EXPECT_FALSE(lease.Acquire().ok());
  EXPECT_FALSE(lease.Valid());
}

}  // namespace
}  // namespace snowflake
