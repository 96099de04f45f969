#include "src/base/cpus.h"

#include <sched.h>

#include "gtest/gtest.h"

namespace snowflake::base {
namespace {

// The count follows the affinity mask, not the machine: narrowed to one
// CPU, it is 1.
TEST(CpusAllowedTest, FollowsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(CpusAllowed(), CPU_COUNT(&saved));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int narrowed = CpusAllowed();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(narrowed, 1);
}

}  // namespace
}  // namespace snowflake::base
