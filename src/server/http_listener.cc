#include "src/server/http_listener.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "spdlog/spdlog.h"
#include "src/base/cpus.h"
#include "src/base/strings.h"
#include "src/server/internal/request_head.h"
#include "src/server/internal/wait_pool.h"
#include "src/server/node.h"

namespace snowflake {

using base::Cat;

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Session;

// How many pipelined requests of one connection are answered in a row
// before the other connections of its I/O thread get their turn.
constexpr int kRequestsPerTurn = 16;

// State shared by the acceptor and all sessions.
struct Shared {
  ListenerOptions options;
  const HttpHandler* handler;
  Metrics* metrics;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> connections{0};
  // Runs the requests that must wait for the clock (never an I/O thread).
  std::unique_ptr<internal::WaitPool> wait_pool;
  int64_t max_waiting_ids = 0;
  std::mutex mu;  // Guards sessions.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t NanosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// One connection, on the io_context of one I/O thread: its handlers run on
// that thread, one at a time, with no strand; other threads reach it only
// through net::post.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared)
      : stream_(std::move(socket)), shared_(shared) {
    beast::error_code ec;
    // Send writes without waiting and queues only what the socket refuses.
    stream_.non_blocking(true, ec);
    if (ec) {
      spdlog::warn("event=connection_refused error=\"{}\"", ec.message());
      stream_.close(ec);  // Its first read fails: the session ends.
      return;
    }
    auto endpoint = stream_.remote_endpoint(ec);
    if (!ec) {
      remote_ = Cat(endpoint.address().to_string(), ":", endpoint.port());
    }
  }

  ~Session() {
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      shared_.sessions.erase(this);
    }
    shared_.connections.fetch_sub(1);
    shared_.metrics->ConnectionClosed();
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      shared_.sessions.emplace(this, weak_from_this());
    }
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->Serve(); });
  }

  // From Shutdown: closes the connection unless a request is being
  // answered (that one finishes, with Connection: close).
  void StopIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->writing_ && !self->waiting_) self->Close();
    });
  }

  // From Shutdown at the drain deadline.
  void ForceClose() {
    net::post(stream_.get_executor(),
              [self = shared_from_this()] { self->Close(); });
  }

  // From the listener's sweep: closes the connection if its current phase
  // (idle wait, request read, response write) is past its deadline.
  void CloseIfExpired(int64_t now_nanos) {
    if (deadline_nanos_.load(std::memory_order_relaxed) > now_nanos) return;
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      // Checked again on its thread: the session may have moved on.
      if (self->deadline_nanos_.load(std::memory_order_relaxed) > NowNanos()) {
        return;
      }
      spdlog::debug("event=connection_timeout remote={}", self->remote_);
      self->Close();
    });
  }

 private:
  // One deadline per connection, enforced by the listener's periodic sweep:
  // arming an Asio timer around every read and write cost about a third of
  // the instructions of a one-ID request.
  void SetDeadline(int64_t millis) {
    deadline_nanos_.store(NowNanos() + millis * 1'000'000,
                          std::memory_order_relaxed);
  }

  // Answers the whole requests in buffer_, one after another, then reads
  // for more. A response the socket takes at once costs no handler of its
  // own: the loop goes on to the next request (pipelined ones included) and
  // ends waiting for a read, for the rest of a write, or for the wait pool,
  // whose completions call Serve again. A request's head must arrive within
  // the header timeout from its first byte; between requests the idle
  // timeout holds.
  void Serve() {
    for (int answered = 0; !closed_;) {
      if (!parser_) {
        if (shared_.stopping.load()) return Close();
        if (buffer_.size() == 0) {
          SetDeadline(shared_.options.idle_timeout_millis);
          return ReadMore();
        }
        if (answered == kRequestsPerTurn) {
          // Pipelined requests wait behind the other connections' turns.
          return net::post(stream_.get_executor(),
                           [self = shared_from_this()] { self->Serve(); });
        }
        parser_.emplace();
        internal::ConfigureRequestParser(*parser_,
                                         shared_.options.max_header_bytes);
        SetDeadline(shared_.options.header_timeout_millis);
      }
      const beast::error_code ec = internal::ParseHead(*parser_, buffer_);
      if (ec == http::error::need_more) return ReadMore();
      bool next = false;
      // The barrier of one request: whatever throws, the node stays up.
      try {
        next = ec ? RejectMalformed(ec) : Answer();
      } catch (const std::exception& e) {
        spdlog::error("event=request_failed remote={} error=\"{}\"", remote_,
                      e.what());
        Close();
      }
      parser_.reset();
      if (!next) return;
      ++answered;
    }
  }

  // Reads what the socket has into buffer_; the peer leaving, before or in
  // a request, or a read cut by Close, ends the connection unanswered. Only
  // heads are read: a request that declares a body is answered from its
  // head and the connection closed, its body never read, so an endless
  // chunk extension or trailer cannot grow buffer_ past max_header_bytes
  // plus one read.
  void ReadMore() {
    stream_.async_read_some(
        buffer_.prepare(internal::kHeadReadBytes),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->buffer_.commit(n);
          self->Serve();
        });
  }

  // Calls the handler; an exception becomes a 500 (logged), not a crash.
  // Any thread: it reads only what does not change.
  HttpResponse HandleGuarded(const HttpRequest& req,
                             Waiting waiting = Waiting::kNever) {
    try {
      return shared_.handler->Handle(req, waiting);
    } catch (const std::exception& e) {
      spdlog::error(
          "event=handler_exception remote={} method={} target=\"{}\" "
          "error=\"{}\"",
          remote_, req.method.substr(0, 32), req.target.substr(0, 256),
          e.what());
      return ErrorResponse(HttpError::kInternal,
                           "internal error while handling the request");
    }
  }

  // Answers the parsed head in parser_. True if the answer went out whole
  // and the connection goes on to its next request.
  bool Answer() {
    const auto start = std::chrono::steady_clock::now();
    const auto& request = parser_->get();
    HttpRequest req = internal::ToHttpRequest(*parser_);
    const bool head = request.method() == http::verb::head;
    if (internal::DeclaresBody(*parser_)) {
      // Answered from the header alone, then closed: the body is not read.
      // A method no route has gets the handler's 404 or 405 with Allow.
      HttpResponse response;
      if (request.method() != http::verb::get && !head) {
        response = HandleGuarded(req);
      }
      if (response.status < 400) {
        response = ErrorResponse(HttpError::kBodyNotAllowed,
                                 "requests carry no body; it is not read");
      }
      spdlog::debug("event=body_refused remote={}", remote_);
      return Send(std::move(response), request.version(), false, head, start,
                  req.method, req.target);
    }
    HttpResponse response = HandleGuarded(req);
    if (response.must_wait_ids > 0) {
      return WaitOffTheIoThread(req, response, request.version(),
                                request.keep_alive(), head, start);
    }
    const bool keep_alive = request.keep_alive() && !shared_.stopping.load();
    return Send(std::move(response), request.version(), keep_alive, head, start,
                req.method, req.target);
  }

  // Hands a request that must wait for the clock to the wait pool, whose
  // thread posts the answer to this session's I/O thread; the connection
  // reads nothing more meanwhile. Past the pool's bound: 503 busy at once.
  bool WaitOffTheIoThread(const HttpRequest& req, const HttpResponse& deferred,
                          unsigned version, bool keep_alive, bool head,
                          std::chrono::steady_clock::time_point start) {
    struct Owned {
      std::string method, target, accept;
    };
    auto owned = std::make_shared<Owned>(Owned{std::string(req.method),
                                               std::string(req.target),
                                               std::string(req.accept)});
    // The pool's bound limits the wait, not the header timeout.
    deadline_nanos_.store(INT64_MAX, std::memory_order_relaxed);
    waiting_ = true;
    // The I/O threads keep running while answers are pending: each holds
    // its io_context's work until Shutdown (IoThread).
    const bool queued = shared_.wait_pool->TrySubmit(
        deferred.must_wait_ids,
        [self = shared_from_this(), owned, version, keep_alive, head, start] {
          HttpResponse response = self->HandleGuarded(
              {owned->method, owned->target, owned->accept}, Waiting::kAllowed);
          net::post(
              self->stream_.get_executor(),
              [self, owned, response = std::move(response), version, keep_alive,
               head, start]() mutable {
                self->waiting_ = false;
                if (self->Send(std::move(response), version,
                               keep_alive && !self->shared_.stopping.load(),
                               head, start, owned->method, owned->target)) {
                  self->Serve();
                }
              });
        });
    if (queued) return false;
    waiting_ = false;
    HttpResponse busy = ErrorResponse(
        HttpError::kBusy,
        Cat("this node has ", shared_.max_waiting_ids,
            " IDs or more waiting for the clock (its layout's rate for ",
            limits::kMaxWaitingMillis, " ms); retry, or ask another node"),
        deferred.route);
    return Send(std::move(busy), version,
                keep_alive && !shared_.stopping.load(), head, start,
                owned->method, owned->target);
  }

  // Parse errors: answer once, then close (false: no next request).
  bool RejectMalformed(beast::error_code ec) {
    const auto start = std::chrono::steady_clock::now();
    HttpResponse response;
    if (ec == http::error::header_limit) {
      response = ErrorResponse(HttpError::kHeaderTooLarge,
                               Cat("request headers exceed ",
                                   shared_.options.max_header_bytes, " bytes"));
    } else {
      response = ErrorResponse(HttpError::kBadRequest,
                               Cat("malformed HTTP request: ", ec.message()));
    }
    spdlog::debug("event=malformed_request remote={} error=\"{}\"", remote_,
                  ec.message());
    return Send(std::move(response), 11, false, false, start, "-", "-");
  }

  // Writes a response. True if the socket took it whole and the connection
  // goes on to its next request; otherwise the rest is written by a
  // handler that goes on itself (Serve), or the connection is closed.
  bool Send(HttpResponse response, unsigned version, bool keep_alive, bool head,
            std::chrono::steady_clock::time_point start,
            std::string_view method, std::string_view target) {
    // The head is written by hand: Beast's generic serializer cost about
    // half of all user-space instructions per request (callgrind, see
    // docs/benchmarks.md), and these responses need none of its generality.
    std::string& out = head_out_;
    out.clear();
    const unsigned status = static_cast<unsigned>(response.status);
    out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    const auto reason =
        http::obsolete_reason(static_cast<http::status>(status));
    out.append(reason.data(), reason.size());
    out += "\r\nServer: snowflaked\r\nContent-Type: ";
    out += response.content_type;
    if (!response.allow.empty()) {
      out += "\r\nAllow: ";
      out += response.allow;
    }
    if (response.retry_after_seconds > 0) {
      out += "\r\nRetry-After: ";
      out += std::to_string(response.retry_after_seconds);
    }
    if (!keep_alive) {
      out += "\r\nConnection: close";
    } else if (version == 10) {
      out += "\r\nConnection: keep-alive";
    }
    const size_t size = response.body.size();
    out += "\r\nContent-Length: ";
    out += std::to_string(size);
    out += "\r\n\r\n";
    body_out_ = head ? std::string() : std::move(response.body);
    const int64_t nanos = NanosSince(start);
    shared_.metrics->RecordRequest(response.route, response.status, nanos);
    if (shared_.options.access_log) {
      spdlog::info(
          "event=access remote={} method={} target=\"{}\" status={} bytes={} "
          "duration_us={}",
          remote_, method, target.substr(0, 256), response.status, size,
          nanos / 1000);
    }
    // Most responses fit the socket's buffer: one non-blocking write, and
    // no completion to queue. What it does not take is written by Asio.
    const std::array<net::const_buffer, 2> buffers = {net::buffer(head_out_),
                                                      net::buffer(body_out_)};
    const size_t total = head_out_.size() + body_out_.size();
    beast::error_code ec;
    const size_t written = stream_.write_some(buffers, ec);
    if (!ec && written == total) {
      if (keep_alive) return true;
      Close();
      return false;
    }
    if (ec && ec != net::error::would_block) {
      Close();
      return false;
    }
    const size_t from_head = std::min(written, head_out_.size());
    const std::array<net::const_buffer, 2> rest = {
        net::buffer(head_out_) + from_head,
        net::buffer(body_out_) + (written - from_head)};
    writing_ = true;
    SetDeadline(shared_.options.header_timeout_millis);
    net::async_write(
        stream_, rest,
        [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
          self->writing_ = false;
          if (ec || !keep_alive) return self->Close();
          self->Serve();
        });
    return false;
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.shutdown(tcp::socket::shutdown_send, ec);
    stream_.close(ec);
  }

  // A plain socket: beast::tcp_stream's timeout machinery runs on every
  // read and write even when no timeout is set, and the deadline here is
  // the connection's own (SetDeadline).
  tcp::socket stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<internal::RequestParser> parser_;
  // The response being written: its head and body, kept until written.
  std::string head_out_;
  std::string body_out_;
  std::string remote_ = "?";
  std::atomic<int64_t> deadline_nanos_{INT64_MAX};
  bool writing_ = false;
  bool waiting_ = false;  // A request is with the wait pool.
  bool closed_ = false;
};

}  // namespace

class HttpListener::Impl {
 public:
  explicit Impl(const ListenerOptions& options, const HttpHandler& handler,
                Metrics& metrics)
      : io_threads_(MakeIoThreads(options.threads)),
        acceptor_(io_threads_.front()->context),
        retry_timer_(io_threads_.front()->context),
        sweep_timer_(io_threads_.front()->context) {
    shared_.options = options;
    shared_.handler = &handler;
    shared_.metrics = &metrics;
    shared_.max_waiting_ids = handler.MaxWaitingIds();
  }

  absl::Status Listen() {
    const ListenerOptions& options = shared_.options;
    beast::error_code ec;
    tcp::resolver resolver(acceptor_.get_executor());
    auto results = resolver.resolve(options.host, Cat(options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(Cat("cannot resolve listen address ",
                                            options.host, ": ", ec.message()));
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    const std::string where =
        Cat(endpoint.address().to_string(), ":", endpoint.port());
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          Cat("cannot listen on ", where, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    Accept();
    Sweep();
    const int threads = static_cast<int>(io_threads_.size());
    shared_.wait_pool =
        std::make_unique<internal::WaitPool>(threads, shared_.max_waiting_ids);
    for (size_t i = 0; i < io_threads_.size(); ++i) {
      // Each I/O thread issues from a worker of its own (--workers).
      io_threads_[i]->thread =
          std::thread([context = &io_threads_[i]->context, i] {
            Node::BindThreadToWorker(static_cast<int>(i));
            context->run();
          });
    }
    spdlog::info("event={} address={} port={} threads={}", options.log_event,
                 endpoint.address().to_string(), port_, threads);
    return absl::OkStatus();
  }

  int port() const { return port_; }

  int Shutdown(std::chrono::milliseconds drain) {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    // Not started, or stopped already: its threads are joined.
    if (!io_threads_.front()->thread.joinable()) return 0;
    shared_.stopping.store(true);
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      retry_timer_.cancel();
      sweep_timer_.cancel();
    });
    ForEachSession([](Session& s) { s.StopIfIdle(); });
    const auto deadline = std::chrono::steady_clock::now() + drain;
    while (shared_.connections.load() > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const int cut = static_cast<int>(shared_.connections.load());
    if (cut > 0) {
      spdlog::warn("event=drain_timeout connections_cut={}", cut);
      ForEachSession([](Session& s) { s.ForceClose(); });
      const auto grace =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      while (shared_.connections.load() > 0 &&
             std::chrono::steady_clock::now() < grace) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    // Before the I/O threads go: its tasks post their answers to them.
    shared_.wait_pool->Stop();
    for (auto& io : io_threads_) io->context.stop();
    for (auto& io : io_threads_) io->thread.join();
    return cut;
  }

 private:
  // One I/O thread and its own io_context (no strands, no locking between
  // threads on the hot path): the sessions accepted for it run there. The
  // work guard keeps run() going while the thread has no connection, until
  // Shutdown stops the context.
  struct IoThread {
    net::io_context context{1};
    net::executor_work_guard<net::io_context::executor_type> work{
        context.get_executor()};
    std::thread thread;
  };

  static std::vector<std::unique_ptr<IoThread>> MakeIoThreads(int threads) {
    const int n = threads > 0 ? threads : base::CpusAllowed();
    std::vector<std::unique_ptr<IoThread>> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<IoThread>());
    return out;
  }

  // Accepts on the first I/O thread; each connection goes to the next I/O
  // thread in turn, for its whole life.
  void Accept() {
    net::io_context& target = io_threads_[next_thread_]->context;
    next_thread_ = (next_thread_ + 1) % io_threads_.size();
    acceptor_.async_accept(
        target, [this](beast::error_code ec, tcp::socket socket) {
          if (shared_.stopping.load()) return;
          if (ec) {
            // E.g. out of file descriptors: back off instead of spinning.
            spdlog::error("event=accept_failed error=\"{}\"", ec.message());
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([this](beast::error_code wait_ec) {
              if (!wait_ec && !shared_.stopping.load()) Accept();
            });
            return;
          }
          if (shared_.connections.load() >= shared_.options.max_connections) {
            shared_.metrics->ConnectionRejected();
            beast::error_code close_ec;
            socket.close(close_ec);
          } else {
            // Answers leave whole at once: with Nagle's algorithm the last
            // segment of a large answer waits for the ACK of the ones before,
            // which the client may delay by 40 ms.
            beast::error_code option_ec;
            socket.set_option(tcp::no_delay(true), option_ec);
            shared_.connections.fetch_add(1);
            shared_.metrics->ConnectionOpened();
            std::make_shared<Session>(std::move(socket), shared_)->Start();
          }
          Accept();
        });
  }

  // Closes the connections past their deadline, a few times per shortest
  // timeout (so a timeout fires at most a quarter of itself late).
  void Sweep() {
    const int64_t shortest = std::min(shared_.options.idle_timeout_millis,
                                      shared_.options.header_timeout_millis);
    const auto period =
        std::chrono::milliseconds(std::clamp<int64_t>(shortest / 4, 5, 250));
    sweep_timer_.expires_after(period);
    sweep_timer_.async_wait([this](beast::error_code ec) {
      if (ec || shared_.stopping.load()) return;
      const int64_t now = NowNanos();
      ForEachSession([now](Session& s) { s.CloseIfExpired(now); });
      Sweep();
    });
  }

  template <typename F>
  void ForEachSession(F f) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      for (auto& [ptr, weak] : shared_.sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) f(*session);
  }

  Shared
      shared_;  // Before the io_contexts: sessions destroyed with them use it.
  std::vector<std::unique_ptr<IoThread>> io_threads_;
  // On the first I/O thread, as is everything of the acceptor's.
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  net::steady_timer sweep_timer_;
  size_t next_thread_ = 0;  // The first I/O thread's only.
  int port_ = 0;
  std::mutex shutdown_mu_;
};

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    const ListenerOptions& options, const HttpHandler& handler,
    Metrics& metrics) {
  auto impl = std::make_unique<Impl>(options, handler, metrics);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

HttpListener::~HttpListener() { impl_->Shutdown(std::chrono::milliseconds(0)); }

int HttpListener::port() const { return impl_->port(); }

int HttpListener::Shutdown(std::chrono::milliseconds drain) {
  return impl_->Shutdown(drain);
}

}  // namespace snowflake
