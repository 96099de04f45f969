#include "src/client/internal/fetcher.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "snowflake/status.h"
#include "src/base/strings.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;

// A node that says "Retry-After: 0" is still not asked again within the
// same few milliseconds: a call never spins on one node.
constexpr int64_t kMinBackoffMicros = 10'000;

int64_t CeilMillis(int64_t micros) { return (micros + 999) / 1000; }

}  // namespace

Fetcher::Fetcher(NodeSet& nodes, const TimeSource& time, FetcherOptions options,
                 std::function<void()> on_all_failed)
    : nodes_(nodes),
      time_(time),
      options_(options),
      on_all_failed_(std::move(on_all_failed)) {}

absl::StatusOr<Fetched> Fetcher::Fetch(int64_t count, int64_t deadline) {
  const int64_t start = time_.Now();
  // ": <each node's last error>", or nothing when none has failed.
  auto errors = [this] {
    const std::string text = nodes_.Errors();
    return text.empty() ? text : Cat(": ", text);
  };
  bool failed = false;  // A node of this call failed: the next is a failover.
  for (;;) {
    const int64_t now = time_.Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(Cat("no node answered within ",
                                             CeilMillis(deadline - start),
                                             " ms", errors()));
    }
    const uint64_t version = nodes_.version();
    std::shared_ptr<Node> node = nodes_.Pick(now);
    if (node == nullptr) {
      if (on_all_failed_) on_all_failed_();
      const std::optional<int64_t> retry = nodes_.EarliestRetry();
      const size_t known = nodes_.size();
      if (retry.has_value() && *retry >= deadline) {
        return MakeError(absl::StatusCode::kUnavailable, ErrorKind::kNone,
                         Cat(known == 1 ? "the only node is"
                                        : Cat("all ", known, " nodes are"),
                             " unavailable for ", CeilMillis(*retry - now),
                             " ms more, past the deadline", errors()),
                         std::nullopt, CeilMillis(*retry - now));
      }
      // Until a node comes back (or, none known, the deadline); a
      // discovery that finds others ends the wait.
      const int64_t until = std::min(retry.value_or(deadline), deadline);
      if (time_.clock() != nullptr) {
        time_.clock()->SleepForMicros(until - now);
      } else {
        nodes_.WaitForChange(
            version, std::chrono::milliseconds(CeilMillis(until - now)));
      }
      continue;
    }
    if (failed) failovers_.fetch_add(1, std::memory_order_relaxed);
    requests_.fetch_add(1, std::memory_order_relaxed);
    const int64_t budget =
        std::min(options_.attempt_timeout_micros, deadline - now);
    absl::StatusOr<std::vector<uint64_t>> ids = node->transport->Fetch(
        count,
        std::chrono::milliseconds(std::max<int64_t>(1, CeilMillis(budget))));
    if (ids.ok()) {
      nodes_.Succeed(*node);
      return Fetched{*std::move(ids), now};
    }
    if (!absl::IsUnavailable(ids.status())) return ids.status();
    failed = true;
    node->transport->Reset();
    const std::optional<int64_t> retry_millis =
        GetRetryDelayMillis(ids.status());
    nodes_.Fail(*node, time_.Now(),
                retry_millis.has_value()
                    ? std::max(*retry_millis * 1000, kMinBackoffMicros)
                    : options_.backoff_micros,
                base::Message(ids.status()));
  }
}

}  // namespace snowflake::client::internal
