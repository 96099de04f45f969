// One call's worth of IDs from the cluster, failing over: ask the next node
// that is not backing off; on an answer another node may improve on
// (kUnavailable: 503, a dropped connection, no answer within the attempt
// timeout) skip that node for its Retry-After or the default back-off and
// ask the next; return anything else at once. When every node backs off,
// ask for a fresh discovery and wait for the first to come back, if it
// does before the deadline.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_FETCHER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "src/client/internal/node_set.h"
#include "src/client/internal/time_source.h"

namespace snowflake::client::internal {

struct FetcherOptions {
  int64_t attempt_timeout_micros = 500'000;
  int64_t backoff_micros = 1'000'000;  // Without Retry-After.
};

// IDs and when the request that brought them was sent (TimeSource::Now()):
// no ID of the batch was issued before then.
struct Fetched {
  std::vector<uint64_t> ids;
  int64_t requested_at = 0;
};

// Thread-safe.
class Fetcher {
 public:
  // `nodes` and `time` are not owned and must outlive the fetcher.
  // `on_all_failed` runs (on the calling thread) whenever no node is left
  // to ask: it should start a discovery, not wait for one.
  Fetcher(NodeSet& nodes, const TimeSource& time, FetcherOptions options,
          std::function<void()> on_all_failed);
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // `count` IDs (1 to the nodes' largest batch) before `deadline` (on
  // `time`). Errors: a node's permanent answer (Transport::Fetch); else
  // kUnavailable when every node backs off past the deadline, or
  // kDeadlineExceeded when the deadline passed first, each listing the
  // last error of each node that failed (and, kUnavailable, carrying the
  // time until the first node comes back as its retry delay).
  absl::StatusOr<Fetched> Fetch(int64_t count, int64_t deadline);

  uint64_t requests() const { return requests_.load(); }
  uint64_t failovers() const { return failovers_.load(); }

 private:
  NodeSet& nodes_;
  const TimeSource& time_;
  const FetcherOptions options_;
  const std::function<void()> on_all_failed_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failovers_{0};
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_FETCHER_H_
