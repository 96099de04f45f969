#include "src/lease/protocol/candidates.h"

#include <algorithm>
#include <tuple>

namespace snowflake::lease_protocol {

std::vector<Candidate> OrderCandidates(const CandidateInput& input) {
  // (wait in ms, mark, ID, history)
  std::vector<std::tuple<int64_t, int64_t, int64_t, bool>> free;
  for (int64_t id = input.range_first; id <= input.range_last; ++id) {
    if (input.taken.count(id) != 0) continue;
    auto it = input.marks.find(id);
    const bool history = it != input.marks.end();
    const int64_t mark = history ? it->second : 0;
    const bool own_last = input.last && *input.last == id;
    int64_t wait = std::max<int64_t>(mark - input.now_unix_millis, 0);
    if (history && !own_last) {
      wait = std::max(wait, input.takeover_wait_millis);
    }
    if (own_last && wait <= input.takeover_wait_millis) wait = -1;
    free.emplace_back(wait, mark, id, history);
  }
  std::sort(free.begin(), free.end());
  std::vector<Candidate> order;
  order.reserve(free.size());
  for (const auto& [wait, mark, id, history] : free) {
    order.push_back(Candidate{id, history});
  }
  return order;
}

}  // namespace snowflake::lease_protocol
