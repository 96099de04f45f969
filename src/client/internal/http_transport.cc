#include "src/client/internal/http_transport.h"

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "src/base/strings.h"
#include "src/client/internal/http_answer.h"

namespace snowflake::client::internal {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using base::Cat;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Room for an error answer's JSON beside the IDs a batch may hold.
constexpr uint64_t kErrorBodyBytes = uint64_t{64} * 1024;
constexpr std::string_view kUserAgent = "snowflake-client/1";

}  // namespace

// One socket with its own io_context: each exchange starts its operations
// and runs the context until they complete, so a stream's timeout (which
// Beast applies only to asynchronous operations) bounds every step. Used
// by one thread at a time.
class HttpTransport::Connection {
 public:
  // Beast reads at most what the buffer has room for: from an empty one,
  // 512 bytes a read, a thousand reads for a batch of 65,536 IDs. Room for
  // 64 KiB makes it 8.
  Connection() : stream_(io_) { buffer_.reserve(kReadBytes); }

  // Runs what was started on this connection to completion.
  void Run() {
    io_.restart();
    io_.run();
  }

  static constexpr size_t kReadBytes = size_t{64} * 1024;

  net::io_context io_{1};
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

struct HttpTransport::Outcome {
  beast::error_code error;
  bool got_some = false;  // Some of the answer arrived.
  bool keep_alive = false;
  HttpAnswer answer;
};

HttpTransport::HttpTransport(Endpoint endpoint, int max_idle)
    : endpoint_(std::move(endpoint)),
      url_(endpoint_.Url()),
      host_header_(endpoint_.HostPort()),
      max_idle_(static_cast<size_t>(max_idle < 0 ? 0 : max_idle)) {}

HttpTransport::~HttpTransport() = default;

absl::StatusOr<std::unique_ptr<HttpTransport::Connection>>
HttpTransport::Connect(SteadyClock::time_point deadline) {
  auto connection = std::make_unique<Connection>();
  beast::error_code error;
  // Numeric hosts resolve without a lookup; names through the system's
  // resolver, which no timeout bounds.
  tcp::resolver resolver(connection->io_);
  const tcp::resolver::results_type addresses =
      resolver.resolve(endpoint_.host, std::to_string(endpoint_.port),
                       tcp::resolver::numeric_service, error);
  if (error) {
    return absl::UnavailableError(
        Cat("node ", url_, ": cannot resolve its host: ", error.message()));
  }
  connection->stream_.expires_at(deadline);
  connection->stream_.async_connect(
      addresses, [&error](const beast::error_code& e, const tcp::endpoint&) {
        error = e;
      });
  connection->Run();
  if (error == beast::error::timeout) {
    return absl::UnavailableError(
        Cat("node ", url_, ": no connection within the attempt timeout"));
  }
  if (error) {
    return absl::UnavailableError(
        Cat("node ", url_, ": cannot connect: ", error.message()));
  }
  connection->stream_.socket().set_option(tcp::no_delay(true), error);
  return connection;
}

HttpTransport::Outcome HttpTransport::RoundTrip(
    Connection& connection, int64_t count, SteadyClock::time_point deadline) {
  Outcome outcome;
  http::request<http::empty_body> request{http::verb::get, IdsTarget(count),
                                          11};
  request.set(http::field::host, host_header_);
  request.set(http::field::accept, "application/octet-stream");
  request.set(http::field::user_agent,
              beast::string_view(kUserAgent.data(), kUserAgent.size()));
  request.keep_alive(true);

  connection.stream_.expires_at(deadline);
  http::async_write(
      connection.stream_, request,
      [&outcome](const beast::error_code& e, size_t) { outcome.error = e; });
  connection.Run();
  if (outcome.error) return outcome;

  http::response_parser<http::string_body> parser;
  parser.body_limit(static_cast<uint64_t>(count) * 8 + kErrorBodyBytes);
  http::async_read(
      connection.stream_, connection.buffer_, parser,
      [&outcome](const beast::error_code& e, size_t) { outcome.error = e; });
  connection.Run();
  outcome.got_some = parser.got_some();
  if (outcome.error) return outcome;

  http::response<http::string_body> response = parser.release();
  outcome.keep_alive = response.keep_alive();
  outcome.answer.status = static_cast<int>(response.result_int());
  outcome.answer.content_type =
      std::string(response[http::field::content_type]);
  outcome.answer.retry_after = std::string(response[http::field::retry_after]);
  outcome.answer.body = std::move(response.body());
  return outcome;
}

absl::StatusOr<std::vector<uint64_t>> HttpTransport::Fetch(
    int64_t count, std::chrono::milliseconds timeout) {
  const SteadyClock::time_point deadline = SteadyClock::now() + timeout;
  std::unique_ptr<Connection> connection = TakeIdle();
  for (;;) {
    const bool reused = connection != nullptr;
    if (!reused) {
      absl::StatusOr<std::unique_ptr<Connection>> fresh = Connect(deadline);
      if (!fresh.ok()) return fresh.status();
      connection = *std::move(fresh);
    }
    Outcome outcome = RoundTrip(*connection, count, deadline);
    if (!outcome.error) {
      if (outcome.keep_alive) PutIdle(std::move(connection));
      return IdsOfAnswer(outcome.answer, count, url_);
    }
    if (outcome.error == beast::error::timeout) {
      return absl::UnavailableError(
          Cat("node ", url_, ": no answer within ", timeout.count(), " ms"));
    }
    if (reused && !outcome.got_some) {
      connection.reset();  // Closed by the node while idle: a new one.
      continue;
    }
    return absl::UnavailableError(Cat(
        "node ", url_, " dropped the connection: ", outcome.error.message()));
  }
}

std::unique_ptr<HttpTransport::Connection> HttpTransport::TakeIdle() {
  MutexLock lock(&mu_);
  if (idle_.empty()) return nullptr;
  std::unique_ptr<Connection> connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void HttpTransport::PutIdle(std::unique_ptr<Connection> connection) {
  MutexLock lock(&mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
  // Else the connection closes as the function returns.
}

void HttpTransport::Reset() {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    MutexLock lock(&mu_);
    dropped.swap(idle_);
  }
}

}  // namespace snowflake::client::internal
