// The node's HTTP API (README.md) as a pure request -> response function,
// with no sockets: the listener parses bytes into an
// HttpRequest, calls Handle, and writes the HttpResponse back.
#ifndef SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_
#define SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {

class ClusterStatus;
struct RequestTarget;

struct HttpRequest {
  std::string_view method;  // "GET", "HEAD", ...
  std::string_view target;  // Origin form: "/v1/ids?count=3".
  std::string_view accept;  // The Accept header; empty if absent.
};

struct HttpResponse {
  int status = 200;
  // One of the handler's constants (a literal's static storage): a
  // std::string would allocate on every answer ("application/json" is
  // longer than its inline buffer).
  std::string_view content_type;
  std::string body;   // Also filled for HEAD; the listener drops it.
  std::string allow;  // For 405: "GET" or "GET, HEAD".
  int64_t retry_after_seconds = 0;  // > 0: send Retry-After.
  Route route = Route::kOther;      // For metrics.
  // > 0: not an answer. Issuing these IDs needs the clock to advance and
  // the caller passed Waiting::kNever; nothing was issued that will ever
  // be sent. The caller runs the request again with Waiting::kAllowed on a
  // thread that may sleep.
  int64_t must_wait_ids = 0;
};

// Whether Handle may sleep until the clock reaches the next tick.
enum class Waiting {
  kAllowed,
  kNever,  // The caller is an I/O thread: answer must_wait_ids instead.
};

// Which routes a handler serves: with --admin-listen the node runs two,
// one per listener, and the operator's routes leave the API's port.
enum class Surface {
  kAll,    // One port for everything (no --admin-listen).
  kApi,    // The main port beside an admin one: all but the status page
           // and /v1/status.
  kAdmin,  // The admin port: the status page, /v1/status, /v1/info,
           // /v1/decode, /metrics, /healthz, /readyz; never IDs.
};

struct HandlerOptions {
  int64_t max_batch = limits::kDefaultMaxBatch;
  std::string version;  // For /v1/info.
  // The most IDs that may wait for the clock at once, as time at the
  // layout's full rate (see HttpHandler::MaxWaitingIds).
  int64_t max_waiting_millis = limits::kMaxWaitingMillis;
  Surface surface = Surface::kAll;
  // With a coordinator: /v1/status's `cluster`, the page's cluster view.
  // Not owned; outlives the handler. Null: static mode, no `cluster`.
  ClusterStatus* cluster = nullptr;
};

// Every error the node answers over HTTP, whoever finds it: the listener
// while reading a request, the handler, or the core (one per ErrorKind).
enum class HttpError {
  kBadRequest,        // Malformed request or bad parameter.
  kNotFound,          // No such route.
  kMethodNotAllowed,  // The route exists; the response carries Allow.
  kBatchTooLarge,     // count above the largest batch.
  kBodyNotAllowed,    // A GET or HEAD that declares a body (never read).
  kHeaderTooLarge,    // Request line and headers above the limit.
  kUnavailable,       // Starting, shutting down, re-acquiring a worker ID.
  kClockBackwards,    // ErrorKind::kClockBackwards.
  kHighWaterMark,     // ErrorKind::kHighWaterMark.
  kStopped,           // ErrorKind::kStopped: shutdown or lease lost.
  kBusy,  // ErrorKind::kWouldWait, or too many IDs waiting for the clock.
  kClockBeforeEpoch,    // ErrorKind::kClockBeforeEpoch: needs the operator.
  kTimeRangeExhausted,  // ErrorKind::kTimeRangeExhausted: needs the operator.
  kFailedPrecondition,  // Any other kFailedPrecondition: no retry fixes it.
  kInternal,            // A bug, or an exception caught at the barrier.
};

// One row of the table below.
struct HttpErrorInfo {
  HttpError error;
  int http_status;
  std::string_view code;  // The JSON error code.
  // Whether another try (later, or on another node) can succeed: then the
  // status is 503 with Retry-After, at least `retry_after_seconds`.
  bool retryable;
  int64_t retry_after_seconds;  // 0 when not retryable.
};

// The one table, by error, of what the node answers: 400, 404, 405, 413,
// 431 for the client's mistakes, 503 with Retry-After for what a retry can
// fix, 500 without for what none can (Abseil's retry guide: of the core's
// errors, exactly the kUnavailable ones are retryable). Every HttpError has
// exactly one row, in enum order.
std::span<const HttpErrorInfo> HttpErrorTable();
const HttpErrorInfo& HttpErrorInfoFor(HttpError error);

// The table's row for `status` (not OK): by the core's ErrorKind if it
// carries one, else by code (kInvalidArgument 400, kNotFound 404,
// kUnimplemented 405, kUnavailable 503, kFailedPrecondition 500, anything
// else 500 internal).
HttpError HttpErrorFor(const absl::Status& status);

// A JSON error response {"error":{"code":...,"message":...}} for `error`,
// with the table's status and code, and Retry-After if retryable.
HttpResponse ErrorResponse(HttpError error, std::string_view message,
                           Route route = Route::kOther);
// The same for `status` (HttpErrorFor). A retryable one waits at least its
// retry delay (GetRetryDelayMillis) rounded up to seconds; its drift is a
// measurement, not a hint.
HttpResponse ErrorResponse(const absl::Status& status,
                           Route route = Route::kOther);

// Thread safety: Handle may be called from any number of threads at once.
// The node and metrics must outlive the handler. Not copyable.
class HttpHandler {
 public:
  HttpHandler(HandlerOptions options, Node& node, Metrics& metrics);
  HttpHandler(const HttpHandler&) = delete;
  HttpHandler& operator=(const HttpHandler&) = delete;

  // Never fails: errors become error responses. Issues IDs for the ID
  // routes and counts them in the metrics. With Waiting::kNever it never
  // sleeps: a request that would (a batch beyond what is left of the
  // current tick) gets a response with must_wait_ids set instead.
  HttpResponse Handle(const HttpRequest& request,
                      Waiting waiting = Waiting::kAllowed) const;

  // The bound on IDs waiting for the clock at once: what the layout issues
  // at its full rate in max_waiting_millis, and never below one largest
  // batch.
  int64_t MaxWaitingIds() const;

 private:
  HttpResponse IssueIds(const RequestTarget& target, std::string_view accept,
                        int64_t count, Route route, Waiting waiting) const;
  HttpResponse Decode(const RequestTarget& target, std::string_view text) const;
  HttpResponse Info() const;
  // /v1/status: {"info": /v1/info's object, "history": the recent history,
  // and with a coordinator "cluster": ClusterJson}.
  HttpResponse StatusReport() const;

  const HandlerOptions options_;
  Node& node_;
  Metrics& metrics_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_
