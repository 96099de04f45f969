#include "src/lease/protocol/candidates.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake::lease_protocol {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kNow = 1'800'000'000'000;
constexpr int64_t kTakeover = 14'000;

CandidateInput Range(int64_t first, int64_t last) {
  CandidateInput input;
  input.range_first = first;
  input.range_last = last;
  input.now_unix_millis = kNow;
  input.takeover_wait_millis = kTakeover;
  return input;
}

std::vector<int64_t> Ids(const std::vector<Candidate>& order) {
  std::vector<int64_t> ids;
  ids.reserve(order.size());
  for (const Candidate& c : order) ids.push_back(c.worker_id);
  return ids;
}

TEST(CandidatesTest, FreshIdsInOrderAndTakenOnesLeftOut) {
  CandidateInput input = Range(0, 4);
  input.taken = {1, 3, 99};
  EXPECT_THAT(OrderCandidates(input),
              ElementsAre(Candidate{0, false}, Candidate{2, false},
                          Candidate{4, false}));
}

TEST(CandidatesTest, OwnLastIdFirstThenNoHistoryThenOldestMark) {
  CandidateInput input = Range(0, 5);
  input.marks = {{0, kNow - 5'000},
                 {1, kNow - 9'000},
                 {2, kNow + 2'000},
                 {4, kNow - 1'000}};
  input.last = 4;
  // 4 (own), 3 and 5 (no history), then 1, 0 (older marks first, both
  // owing the takeover wait), then 2.
  EXPECT_THAT(Ids(OrderCandidates(input)), ElementsAre(4, 3, 5, 1, 0, 2));
  EXPECT_TRUE(OrderCandidates(input)[0].history);
}

TEST(CandidatesTest, OwnLastIdTooFarAheadGoesByItsWait) {
  CandidateInput input = Range(0, 2);
  input.last = 0;
  input.marks = {{0, kNow + kTakeover + 1}, {1, kNow + 3'000}};
  // 2: no wait; 1: a takeover; 0: longer than a takeover.
  EXPECT_THAT(Ids(OrderCandidates(input)), ElementsAre(2, 1, 0));
  input.marks[0] = kNow + kTakeover;  // Exactly a takeover: still first.
  EXPECT_THAT(Ids(OrderCandidates(input)), ElementsAre(0, 2, 1));
}

TEST(CandidatesTest, AMarkFurtherAheadThanTheTakeoverRanksByTheMark) {
  CandidateInput input = Range(0, 2);
  input.marks = {{0, kNow + 60'000}, {1, kNow + 20'000}, {2, kNow - 1}};
  EXPECT_THAT(Ids(OrderCandidates(input)), ElementsAre(2, 1, 0));
}

TEST(CandidatesTest, UnreadableFloorGoesLast) {
  CandidateInput input = Range(0, 1);
  input.marks = {{0, INT64_MAX / 2}, {1, kNow}};
  EXPECT_THAT(Ids(OrderCandidates(input)), ElementsAre(1, 0));
}

TEST(CandidatesTest, NothingFree) {
  CandidateInput input = Range(3, 4);
  input.taken = {3, 4};
  EXPECT_TRUE(OrderCandidates(input).empty());
}

}  // namespace
}  // namespace snowflake::lease_protocol
