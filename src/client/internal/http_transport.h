// The HTTP/1.1 transport (Boost.Beast): GET /v1/ids in binary on keep-alive
// connections, a pool of idle ones per node, every exchange bounded by a
// timeout.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_TRANSPORT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/client/internal/endpoint.h"
#include "src/client/internal/transport.h"

namespace snowflake::client::internal {

// Thread-safe: each Fetch takes a connection of its own (an idle one, or a
// new one) and gives it back to the pool if the node keeps it alive.
class HttpTransport final : public Transport {
 public:
  // Keeps at most `max_idle` idle connections.
  HttpTransport(Endpoint endpoint, int max_idle);
  ~HttpTransport() override;

  // A failure on a reused connection before any byte of the answer (the
  // node closed it while idle) is tried once more on a new connection,
  // within the same timeout. The IDs a node issued for an answer that never
  // arrived are lost: gaps, never repeats.
  absl::StatusOr<std::vector<uint64_t>> Fetch(
      int64_t count, std::chrono::milliseconds timeout) override;
  void Reset() override;

 private:
  class Connection;
  struct Outcome;

  absl::StatusOr<std::unique_ptr<Connection>> Connect(
      std::chrono::steady_clock::time_point deadline);
  Outcome RoundTrip(Connection& connection, int64_t count,
                    std::chrono::steady_clock::time_point deadline);
  std::unique_ptr<Connection> TakeIdle();
  void PutIdle(std::unique_ptr<Connection> connection);

  const Endpoint endpoint_;
  const std::string url_;
  const std::string host_header_;
  const size_t max_idle_;
  Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_TRANSPORT_H_
