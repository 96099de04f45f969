// Which free worker ID a node tries to claim first (docs/operations.md,
// step 4): the one it can issue under soonest. Pure: the caller reads the
// claims, the stored marks, the local floors and its identity file, and
// this orders them, the same way for every coordinator.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_CANDIDATES_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_CANDIDATES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace snowflake::lease_protocol {

struct CandidateInput {
  int64_t range_first = 0;  // The node's range, inclusive.
  int64_t range_last = 0;
  std::set<int64_t> taken;  // IDs claimed by anyone (any range).
  // Every ID with history, by its mark (Unix ms): the larger of the stored
  // mark and the local floor. An unreadable floor counts as far ahead.
  std::map<int64_t, int64_t> marks;
  std::optional<int64_t> last;  // The ID in the identity file.
  int64_t now_unix_millis = 0;  // The wall clock.
  int64_t takeover_wait_millis = 0;
};

struct Candidate {
  int64_t worker_id = -1;
  bool history = false;  // It has a mark: taking it over may mean a wait.
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// The free IDs of the range, soonest to start first. Each is ranked by how
// long a successor waits before issuing: until the wall clock passes its
// mark, and at least the takeover wait when it has history. The ID this
// node held last comes first unless that wait is longer than a takeover
// (its marks are further ahead); it never owes a takeover wait itself. Ties
// go to the lower mark, then the lower ID. So: own last ID, IDs without
// history, then the others oldest mark first.
std::vector<Candidate> OrderCandidates(const CandidateInput& input);

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_CANDIDATES_H_
