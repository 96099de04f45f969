#include "src/server/internal/process_stats.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "gtest/gtest.h"

namespace snowflake::internal {
namespace {

TEST(ProcessStatsTest, ReadsThisProcess) {
  // Burn a little CPU and touch memory so that neither reads as zero.
  std::vector<char> memory(size_t{8} << 20, 1);
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  volatile uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) {
    spin = spin + memory[spin % memory.size()];
  }

  const ProcessStats stats = ReadProcessStats();
  EXPECT_GT(stats.cpu_seconds, 0.0);
  EXPECT_GE(stats.resident_bytes, int64_t{8} << 20);
  EXPECT_GE(stats.virtual_bytes, stats.resident_bytes);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(stats.max_fds, static_cast<int64_t>(limit.rlim_cur));
}

TEST(ProcessStatsTest, CountsOpenDescriptorsExactly) {
  const int64_t before = ReadProcessStats().open_fds;
  ASSERT_GE(before, 3);  // At least stdin, stdout, stderr.
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadProcessStats().open_fds, before + 1);
  close(fd);
  EXPECT_EQ(ReadProcessStats().open_fds, before);
}

}  // namespace
}  // namespace snowflake::internal
