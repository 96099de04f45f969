#include "src/lease/static_lease.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "src/lease/state_dir.h"

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

// Routes spdlog's default logger into a string for its lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

void WriteMark(const std::string& dir, int64_t worker_id) {
  auto store = FileHwmStore::Open(StaticHwmPath(dir, worker_id));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Store(1'700'000'000'000).ok());
}

// A state dir that holds only another worker's mark (a changed
// --worker-id, or the wrong directory) is not a silent fresh start.
TEST(StaticLeaseTest, StartingWithoutItsHwmBesideAnotherWorkersWarns) {
  const std::string dir = TempDir();
  WriteMark(dir, 0);
  CapturedLog log;
  StaticLease lease(3, dir);
  ASSERT_TRUE(lease.Acquire().ok());
  const std::string text = log.text();
  EXPECT_THAT(text, ::testing::StartsWith("warning event=hwm_missing "));
  EXPECT_THAT(text, ::testing::HasSubstr("worker_id=3"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "holds a HWM for worker 0 but none for worker 3: "
                        "starting without a high-water mark"));
  EXPECT_THAT(text, ::testing::HasSubstr(StaticHwmPath(dir, 3)));
  EXPECT_THAT(text, ::testing::HasSubstr("could repeat them"));
  std::filesystem::remove_all(dir);
}

TEST(StaticLeaseTest, StartingWithoutAnyHwmWarnsAndListsSeveral) {
  const std::string dir = TempDir();
  {
    CapturedLog log;
    StaticLease lease(3, dir);
    ASSERT_TRUE(lease.Acquire().ok());
    EXPECT_THAT(log.text(), ::testing::StartsWith("warning "));
    EXPECT_THAT(log.text(), ::testing::HasSubstr("found=\"none\""));
    EXPECT_THAT(log.text(),
                ::testing::HasSubstr("holds no HWM file for any worker"));
  }
  WriteMark(dir, 12);
  WriteMark(dir, 5);
  // Not marks: a temp file and a name StaticHwmPath never makes.
  std::ofstream(dir + "/hwm-worker-7.tmp") << "x";
  std::ofstream(dir + "/hwm-worker-08") << "x";
  CapturedLog log;
  StaticLease lease(4, dir);
  ASSERT_TRUE(lease.Acquire().ok());
  EXPECT_THAT(log.text(),
              ::testing::HasSubstr(
                  "holds HWMs for workers 5, 12 but none for worker 4"));
  std::filesystem::remove_all(dir);
}

TEST(StaticLeaseTest, StartingWithItsOwnHwmIsQuiet) {
  const std::string dir = TempDir();
  WriteMark(dir, 0);
  WriteMark(dir, 3);
  CapturedLog log;
  StaticLease lease(3, dir);
  auto grant = lease.Acquire();
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->hwm_store->Load()->value(), 1'700'000'000'000);
  // Acquired again (the daemon never does in static mode): still quiet.
  ASSERT_TRUE(lease.Acquire().ok());
  EXPECT_EQ(log.text(), "");
  std::filesystem::remove_all(dir);
}

TEST(StaticLeaseTest, UnwritableStateDirFails) {
  StaticLease lease(1, "/proc/definitely/not/writable");
  EXPECT_FALSE(lease.Acquire().ok());
  EXPECT_FALSE(lease.Valid());
}

}  // namespace
}  // namespace snowflake
