// The HTTP/1.1 server: thin Boost.Beast sessions with keep-alive that parse
// bytes into HttpRequests, call the pure HttpHandler, and write the answers
// back, under the limits of limits.h. With internal/request_head, the only
// code that includes Beast. Requests that must wait for the clock are
// answered from a small pool of waiting threads, never on an I/O thread.
#ifndef SNOWFLAKE_SRC_SERVER_HTTP_LISTENER_H_
#define SNOWFLAKE_SRC_SERVER_HTTP_LISTENER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/server/http_handler.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"

namespace snowflake {

struct ListenerOptions {
  std::string host = limits::kDefaultListenHost;
  // 0: any free port (see HttpListener::port()).
  int port = limits::kDefaultListenPort;
  int threads = limits::kDefaultThreads;  // 0: one per core.
  int64_t max_header_bytes = limits::kDefaultMaxHeaderBytes;
  int64_t max_connections = limits::kDefaultMaxConnections;
  int64_t idle_timeout_millis = limits::kDefaultIdleTimeoutMillis;
  int64_t header_timeout_millis = limits::kDefaultHeaderTimeoutMillis;
  bool access_log = false;
  // The event of the log line that says where it listens: the admin
  // listener's differs, so that a reader of the log finds each port.
  std::string log_event = "listening";
};

// Thread safety: Shutdown and port() may be called from any thread. The
// handler and metrics must outlive the listener. Not copyable.
class HttpListener {
 public:
  // Binds, listens and starts the I/O threads. Errors: kInvalidArgument
  // for an address that does not resolve, kUnavailable if it cannot be
  // bound (in use, no permission), naming the address.
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      const ListenerOptions& options, const HttpHandler& handler,
      Metrics& metrics);
  ~HttpListener();  // Shutdown(0) if not done yet.
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // The bound port (useful when started with port 0).
  int port() const;

  // Stops accepting at once, closes idle connections, lets requests in
  // flight finish and be written (each answered with Connection: close)
  // for up to `drain`, then closes what is left and joins the threads.
  // Idempotent. Returns the connections cut off at the deadline.
  int Shutdown(std::chrono::milliseconds drain);

  class Impl;

 private:
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_HTTP_LISTENER_H_
