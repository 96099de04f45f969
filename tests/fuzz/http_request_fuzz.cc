// Fuzzes the node's HTTP front end: the input is the byte stream of one
// connection, read like the listener reads it (its own Beast parser setup,
// internal/request_head.h, and pipelining on one buffer), each request
// answered by the real HttpHandler over a real static-mode Node. Every
// response must be a row of the handler's error table (or a 200), with a
// reason phrase, and a body that parses if it is JSON.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "boost/asio/buffer.hpp"
#include "boost/asio/error.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/status.hpp"
#include "nlohmann/json.hpp"
#include "snowflake/clock.h"
#include "spdlog/spdlog.h"
#include "src/lease/static_lease.h"
#include "src/server/http_handler.h"
#include "src/server/internal/request_head.h"
#include "src/server/metrics.h"
#include "src/server/node.h"
#include "tests/fuzz/fuzz_check.h"

namespace snowflake {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// Configured values (config allows both), chosen small so that short inputs
// reach the limits: 431 past 1 KiB of head, 413 past 1,000 IDs.
constexpr int64_t kMaxHeaderBytes = 1024;
constexpr int64_t kMaxBatch = 1000;
// A bound on pipelining.
constexpr int kMaxRequests = 64;
// What each request is recorded as having taken (/metrics shows it).
constexpr int64_t kRequestNanos = 1000;

struct Fixture {
  std::unique_ptr<Node> node;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<HttpHandler> handler;
};

Fixture* fixture = nullptr;

void StopFixture() {
  if (fixture == nullptr) return;
  (void)fixture->node->Shutdown();
}

// One connection's bytes, handed out at most `read_size` at a time, as a
// socket may deliver them; then end of stream.
class ByteStream {
 public:
  ByteStream(std::string_view bytes, size_t read_size)
      : rest_(bytes), read_size_(read_size) {}

  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers,
                   beast::error_code& ec) {
    if (rest_.empty()) {
      ec = net::error::eof;
      return 0;
    }
    ec = {};
    const size_t n = net::buffer_copy(
        buffers, net::buffer(rest_.data(), std::min(rest_.size(), read_size_)));
    rest_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view rest_;
  const size_t read_size_;
};

// The invariants of every response the node writes.
void CheckResponse(const HttpResponse& response) {
  FUZZ_CHECK(!response.content_type.empty());
  FUZZ_CHECK(http::obsolete_reason(static_cast<http::status>(
                 response.status)) != "<unknown-status>");
  nlohmann::json json;
  if (response.content_type == "application/json") {
    json = nlohmann::json::parse(response.body, nullptr,
                                 /*allow_exceptions=*/false);
    FUZZ_CHECK(!json.is_discarded());
  }
  if (response.status == 200) {
    FUZZ_CHECK(response.allow.empty());
    FUZZ_CHECK(response.retry_after_seconds == 0);
    FUZZ_CHECK(response.route != Route::kOther);
    return;
  }
  // An error: {"error":{"code":...,"message":...}}, the code's row giving
  // the status, Retry-After and Allow.
  FUZZ_CHECK(response.content_type == "application/json");
  FUZZ_CHECK(json.is_object() && json.contains("error"));
  const nlohmann::json& error = json["error"];
  FUZZ_CHECK(error.is_object() && error.contains("code") &&
             error["code"].is_string() && error.contains("message") &&
             error["message"].is_string());
  const std::string code = error["code"].get<std::string>();
  const HttpErrorInfo* row = nullptr;
  for (const HttpErrorInfo& info : HttpErrorTable()) {
    if (info.code == code) row = &info;
  }
  FUZZ_CHECK(row != nullptr);
  FUZZ_CHECK(row->http_status == response.status);
  if (row->retryable) {
    FUZZ_CHECK(response.retry_after_seconds >= row->retry_after_seconds);
  } else {
    FUZZ_CHECK(response.retry_after_seconds == 0);
  }
  FUZZ_CHECK(response.allow.empty() ==
             (row->error != HttpError::kMethodNotAllowed));
}

// As the listener's RejectMalformed.
HttpResponse MalformedResponse(const beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return ErrorResponse(HttpError::kHeaderTooLarge, "request headers too big");
  }
  return ErrorResponse(HttpError::kBadRequest,
                       "malformed HTTP request: " + ec.message());
}

// Answers the requests in `bytes` as one connection of the listener does
// (Serve, ReadMore, Answer), until it would close.
void ServeConnection(std::string_view bytes, size_t read_size) {
  const HttpHandler& handler = *fixture->handler;
  ByteStream stream(bytes, read_size);
  beast::flat_buffer buffer;
  for (int i = 0; i < kMaxRequests; ++i) {
    internal::RequestParser parser;
    internal::ConfigureRequestParser(parser, kMaxHeaderBytes);
    beast::error_code ec = http::error::need_more;
    if (buffer.size() > 0) ec = internal::ParseHead(parser, buffer);
    while (ec == http::error::need_more) {
      beast::error_code read_ec;
      const size_t n =
          stream.read_some(buffer.prepare(internal::kHeadReadBytes), read_ec);
      // The peer left, between requests or in one: no one to answer.
      if (read_ec) return;
      buffer.commit(n);
      ec = internal::ParseHead(parser, buffer);
    }
    if (ec) {
      const HttpResponse response = MalformedResponse(ec);
      FUZZ_CHECK(response.status == 400 || response.status == 431);
      CheckResponse(response);
      return;
    }
    const auto& request = parser.get();
    const HttpRequest req = internal::ToHttpRequest(parser);
    const bool head = request.method() == http::verb::head;
    if (internal::DeclaresBody(parser)) {
      // As OnRead: answered from the head, then closed.
      HttpResponse response;
      if (request.method() != http::verb::get && !head) {
        response = handler.Handle(req);
      }
      if (response.status < 400) {
        response = ErrorResponse(HttpError::kBodyNotAllowed,
                                 "requests carry no body; it is not read");
      }
      CheckResponse(response);
      fixture->metrics->RecordRequest(response.route, response.status,
                                      kRequestNanos);
      return;
    }
    // Not guarded as in the listener: the handler never throws, so an
    // exception here is a bug the fuzzer should report.
    const HttpResponse response = handler.Handle(req);
    CheckResponse(response);
    fixture->metrics->RecordRequest(response.route, response.status,
                                    kRequestNanos);
    if (!request.keep_alive()) return;
  }
}

// A started node in a fresh state directory, stopped (and the directory
// removed) at exit.
void StartFixture() {
  spdlog::set_level(spdlog::level::off);
  const std::string& dir = fuzz::ScratchDir("http");
  fixture = new Fixture;
  NodeOptions options;
  options.name = "fuzz";
  options.region = "local";
  options.cluster = "fuzz";
  fixture->node = std::make_unique<Node>(
      options, std::make_unique<WallClock>(),
      std::make_unique<StaticLease>(/*worker_id=*/7, dir));
  if (absl::Status s = fixture->node->Start(); !s.ok()) {
    std::fprintf(stderr, "node did not start: %s\n", s.ToString().c_str());
    std::abort();
  }
  fixture->metrics = std::make_unique<Metrics>(
      BuildInfo{"fuzz", options.generator.layout.ToString(), "static"});
  fixture->handler = std::make_unique<HttpHandler>(
      HandlerOptions{kMaxBatch, "fuzz"}, *fixture->node, *fixture->metrics);
  std::atexit(StopFixture);
}

}  // namespace
}  // namespace snowflake

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  snowflake::StartFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // How the bytes arrive varies with the input, so that requests split
  // across reads (down to a few bytes) are covered too.
  constexpr std::array<size_t, 4> kReadSizes = {4096, 512, 61, 7};
  snowflake::ServeConnection(
      std::string_view(reinterpret_cast<const char*>(data), size),
      kReadSizes[size % kReadSizes.size()]);
  return 0;
}
