// The node's HTTP API as a pure request -> response function (DESIGN
// section 6), with no sockets: the listener parses bytes into an
// HttpRequest, calls Handle, and writes the HttpResponse back.
#ifndef SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_
#define SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {

struct RequestTarget;

struct HttpRequest {
  std::string_view method;  // "GET", "HEAD", ...
  std::string_view target;  // Origin form: "/v1/ids?count=3".
  std::string_view accept;  // The Accept header; empty if absent.
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;   // Also filled for HEAD; the listener drops it.
  std::string allow;  // For 405: "GET" or "GET, HEAD".
  int64_t retry_after_seconds = 0;  // > 0: send Retry-After.
  Route route = Route::kOther;      // For metrics.
};

struct HandlerOptions {
  int64_t max_batch = limits::kDefaultMaxBatch;
  std::string version;  // For /v1/info.
};

// The one table from status codes to HTTP: 400 kInvalidArgument, 404
// kNotFound, 405 kUnimplemented (method not allowed), 408
// kDeadlineExceeded, 413 kOutOfRange, 503 kUnavailable and
// kFailedPrecondition, 500 anything else.
int HttpStatusFor(absl::StatusCode code);

// A JSON error response {"error":{"code":...,"message":...}} for `status`:
// the code string is the core's ErrorKindName if the status carries one,
// else the table's name; 503s carry Retry-After (the drift rounded up to
// seconds, at least 1).
HttpResponse ErrorResponse(const absl::Status& status,
                           Route route = Route::kOther);
// The same with an explicit HTTP status and code, for errors found while
// parsing the request (431 header too large, ...).
HttpResponse ErrorResponse(int http_status, std::string_view code,
                           std::string_view message,
                           Route route = Route::kOther);

// Thread safety: Handle may be called from any number of threads at once.
// The node and metrics must outlive the handler. Not copyable.
class HttpHandler {
 public:
  HttpHandler(HandlerOptions options, Node& node, Metrics& metrics);
  HttpHandler(const HttpHandler&) = delete;
  HttpHandler& operator=(const HttpHandler&) = delete;

  // Never fails: errors become error responses. Issues IDs for the ID
  // routes and counts them in the metrics.
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse IssueIds(const RequestTarget& target, std::string_view accept,
                        int64_t count, Route route) const;
  HttpResponse Decode(const RequestTarget& target, std::string_view text) const;
  HttpResponse Info() const;

  const HandlerOptions options_;
  Node& node_;
  Metrics& metrics_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_HTTP_HANDLER_H_
