// The nodes a client knows, and which of them to skip for now: a node that
// failed is skipped until its back-off ends (the node's Retry-After, or the
// client's default). Time is passed in (microseconds on the client's
// TimeSource), so the bookkeeping is tested without sleeping.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_NODE_SET_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_NODE_SET_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "src/base/mutex.h"
#include "src/client/internal/endpoint.h"
#include "src/client/internal/transport.h"

namespace snowflake::client::internal {

// A known node. Shared: a call holds it while a Set() may drop it.
struct Node {
  Endpoint endpoint;
  std::string url;  // endpoint.Url().
  std::unique_ptr<Transport> transport;
};

// Thread-safe.
class NodeSet {
 public:
  explicit NodeSet(TransportFactory factory);
  NodeSet(const NodeSet&) = delete;
  NodeSet& operator=(const NodeSet&) = delete;

  // Makes `endpoints` the known nodes. A node that stays keeps its
  // transport (its idle connections) and its back-off; a new one starts
  // available. Wakes WaitForChange.
  void Set(const std::vector<Endpoint>& endpoints);

  // The next node to ask at `now`, round robin over the nodes not backing
  // off, so that concurrent calls spread over them; null when every node
  // backs off, or none is known.
  std::shared_ptr<Node> Pick(int64_t now);

  // `node` failed at `now` with `error`: skipped until `now + backoff` (or
  // longer if it already was). Unknown nodes (dropped by a Set) are
  // ignored.
  void Fail(const Node& node, int64_t now, int64_t backoff, std::string error);
  // `node` answered: asked again at once, its last error forgotten.
  void Succeed(const Node& node);

  // The last error of each node whose last answer was one, "; "-joined,
  // in URL order; empty if none.
  std::string Errors() const;

  // When the first skipped node may be asked again (<= now if one is
  // available); nullopt if none is known.
  std::optional<int64_t> EarliestRetry() const;

  // Blocks until a Set() after `version` or `timeout`, whichever is first.
  void WaitForChange(uint64_t version, std::chrono::milliseconds timeout);
  // Counts the Set() calls.
  uint64_t version() const;

  size_t size() const;
  std::vector<std::string> Urls() const;  // Sorted.

 private:
  struct Entry {
    std::shared_ptr<Node> node;
    int64_t down_until = 0;  // Skipped while now < down_until.
    std::string last_error;  // Empty after a success.
  };

  Entry* Find(const Node& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TransportFactory factory_;
  mutable Mutex mu_;
  CondVar changed_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // Sorted by URL.
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;             // Round robin.
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_NODE_SET_H_
