#include "snowflake/client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "src/base/strings.h"
#include "src/client/internal/discovery.h"
#include "src/client/internal/endpoint.h"
#include "src/client/internal/fetcher.h"
#include "src/client/internal/grpc_transport.h"
#include "src/client/internal/http_transport.h"
#include "src/client/internal/node_set.h"
#include "src/client/internal/prefetcher.h"
#include "src/client/internal/time_source.h"

namespace snowflake {

using base::Cat;
using client::internal::Discovery;
using client::internal::Endpoint;
using client::internal::Fetched;
using client::internal::Fetcher;
using client::internal::FetcherOptions;
using client::internal::GrpcTransport;
using client::internal::HttpTransport;
using client::internal::NodeSet;
using client::internal::Prefetcher;
using client::internal::PrefetcherOptions;
using client::internal::TimeSource;
using client::internal::Transport;

namespace {

// The smallest max_staleness: below it the guard of the coarse clock
// (prefetcher.h CoarseGuard: eight kernel ticks, 32 ms at 250 Hz) covers
// a batch's whole life, and every Next() reads the precise clock.
constexpr std::chrono::milliseconds kMinStaleness{20};
constexpr int kMaxHighWatermark = 16;

int64_t Micros(std::chrono::milliseconds d) { return d.count() * 1000; }

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(base::AbslView(message));
}

// Checks what no component checks for itself; normalizes the prefix.
absl::Status CheckOptions(ClientOptions& options) {
  DiscoveryOptions& d = options.discovery;
  const bool coordinator =
      !d.etcd_endpoints.empty() || !d.zookeeper_hosts.empty();
  if (options.endpoints.empty() && !coordinator) {
    return Invalid(
        "no node to ask: set ClientOptions::endpoints (http://HOST:PORT or "
        "grpc://HOST:PORT) or "
        "a coordinator to discover them (discovery.etcd_endpoints or "
        "discovery.zookeeper_hosts)");
  }
  if (!options.endpoints.empty() && coordinator) {
    return Invalid(
        "both endpoints and a coordinator given: use one way to find the "
        "nodes");
  }
  if (coordinator) {
    if (!d.etcd_endpoints.empty() && !d.zookeeper_hosts.empty()) {
      return Invalid(
          "both discovery.etcd_endpoints and discovery.zookeeper_hosts "
          "given: a cluster has one coordinator");
    }
    if (d.cluster.empty() || d.cluster.find('/') != std::string::npos) {
      return Invalid(
          Cat("discovery.cluster must be a name without \"/\", got \"",
              d.cluster, "\""));
    }
    while (d.prefix.size() > 1 && d.prefix.back() == '/') d.prefix.pop_back();
    if (d.prefix.empty() || d.prefix.front() != '/') {
      return Invalid(Cat("discovery.prefix must start with \"/\", got \"",
                         d.prefix, "\""));
    }
    if (d.refresh_interval.count() <= 0 || d.min_refresh_interval.count() < 0 ||
        d.timeout.count() <= 0) {
      return Invalid(
          "discovery.refresh_interval and timeout must be positive, "
          "min_refresh_interval not negative");
    }
  }
  if (options.deadline.count() <= 0 || options.attempt_timeout.count() <= 0 ||
      options.node_backoff.count() < 0) {
    return Invalid(Cat("deadline (", options.deadline.count(),
                       " ms) and attempt_timeout (",
                       options.attempt_timeout.count(),
                       " ms) must be positive, node_backoff (",
                       options.node_backoff.count(), " ms) not negative"));
  }
  if (options.transport != ClientTransport::kHttp &&
      options.transport != ClientTransport::kGrpc) {
    return Invalid(Cat("transport must be kHttp or kGrpc, got ",
                       static_cast<int>(options.transport)));
  }
  if (options.max_batch < 1) {
    return Invalid(
        Cat("max_batch must be at least 1, got ", options.max_batch));
  }
  if (options.max_idle_connections < 0) {
    return Invalid(Cat("max_idle_connections must not be negative, got ",
                       options.max_idle_connections));
  }
  const PrefetchOptions& p = options.prefetch;
  if (p.enabled) {
    if (p.max_staleness < kMinStaleness) {
      return Invalid(Cat("prefetch.max_staleness must be at least ",
                         kMinStaleness.count(), " ms, got ",
                         p.max_staleness.count(), " ms"));
    }
    if (p.min_batch < 1 || p.max_batch < p.min_batch ||
        p.max_batch > options.max_batch) {
      return Invalid(Cat("prefetch batches must satisfy 1 <= min_batch (",
                         p.min_batch, ") <= max_batch (", p.max_batch,
                         ") <= max_batch of the client (", options.max_batch,
                         ")"));
    }
    if (p.low_watermark < 1 || p.high_watermark < p.low_watermark ||
        p.high_watermark > kMaxHighWatermark) {
      return Invalid(Cat("prefetch watermarks must satisfy 1 <= low (",
                         p.low_watermark, ") <= high (", p.high_watermark,
                         ") <= ", kMaxHighWatermark));
    }
  }
  return absl::OkStatus();
}

}  // namespace

class Client::Impl {
 public:
  explicit Impl(const ClientOptions& options)
      : options_(options),
        time_(options.clock),
        nodes_([max_idle = options.max_idle_connections](
                   const Endpoint& e) -> std::unique_ptr<Transport> {
          if (e.transport == ClientTransport::kGrpc) {
            return std::make_unique<GrpcTransport>(e);
          }
          return std::make_unique<HttpTransport>(e, max_idle);
        }),
        fetcher_(nodes_, time_,
                 FetcherOptions{Micros(options.attempt_timeout),
                                Micros(options.node_backoff)},
                 [this] {
                   if (discovery_ != nullptr) discovery_->RefreshSoon();
                 }) {}

  ~Impl() {
    // The threads first: they use what follows.
    prefetcher_.reset();
    discovery_.reset();
  }

  absl::Status Start(const std::vector<Endpoint>& endpoints) {
    if (!endpoints.empty()) {
      nodes_.Set(endpoints);
    } else {
      absl::StatusOr<std::unique_ptr<Discovery>> discovery =
          Discovery::Start(options_.discovery, options_.transport, nodes_);
      if (!discovery.ok()) return discovery.status();
      discovery_ = *std::move(discovery);
    }
    if (options_.prefetch.enabled) {
      const PrefetchOptions& p = options_.prefetch;
      PrefetcherOptions prefetch;
      prefetch.max_staleness_micros = Micros(p.max_staleness);
      prefetch.min_batch = p.min_batch;
      prefetch.max_batch = p.max_batch;
      prefetch.low_watermark = p.low_watermark;
      prefetch.high_watermark = p.high_watermark;
      prefetch.deadline_micros = Micros(options_.deadline);
      prefetcher_ = std::make_unique<Prefetcher>(
          prefetch, time_,
          [this](int64_t count, int64_t deadline) {
            return fetcher_.Fetch(count, deadline);
          },
          [this] { return nodes_.Errors(); });
    }
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Next() {
    if (prefetcher_ != nullptr) {
      uint64_t id = 0;
      if (prefetcher_->TryTake(id)) return id;
      return Count(prefetcher_->Take(time_.Now() + Micros(options_.deadline)));
    }
    absl::StatusOr<Fetched> fetched =
        fetcher_.Fetch(1, time_.Now() + Micros(options_.deadline));
    if (!fetched.ok()) return Count(fetched.status());
    return fetched->ids.front();
  }

  absl::StatusOr<std::vector<uint64_t>> NextBatch(int64_t count) {
    if (count < 1) {
      return Count(absl::InvalidArgumentError(
          Cat("count must be at least 1, got ", count)));
    }
    if (count > options_.max_batch) {
      return Count(absl::OutOfRangeError(
          Cat("count ", count, " is above the largest batch, ",
              options_.max_batch, " (ClientOptions::max_batch)")));
    }
    absl::StatusOr<Fetched> fetched =
        fetcher_.Fetch(count, time_.Now() + Micros(options_.deadline));
    if (!fetched.ok()) return Count(fetched.status());
    return std::move(fetched->ids);
  }

  ClientStats Stats() const {
    ClientStats stats;
    if (prefetcher_ != nullptr) {
      stats.buffer_hits = prefetcher_->hits();
      stats.buffer_misses = prefetcher_->misses();
      stats.refills = prefetcher_->refills();
      stats.dropped_stale = prefetcher_->dropped_stale();
    }
    stats.failovers = fetcher_.failovers();
    stats.requests = fetcher_.requests();
    stats.errors = errors_.load();
    stats.discoveries = discovery_ != nullptr ? discovery_->reads() : 0;
    stats.nodes = nodes_.size();
    return stats;
  }

  std::vector<std::string> Endpoints() const { return nodes_.Urls(); }

 private:
  // Counts an error on its way to the caller.
  template <typename T>
  T Count(T result) {
    if (!result.ok()) errors_.fetch_add(1, std::memory_order_relaxed);
    return result;
  }
  absl::Status Count(absl::Status status) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return status;
  }

  const ClientOptions options_;
  const TimeSource time_;
  NodeSet nodes_;
  Fetcher fetcher_;
  std::unique_ptr<Discovery> discovery_;    // Null with fixed endpoints.
  std::unique_ptr<Prefetcher> prefetcher_;  // Null without prefetch.
  std::atomic<uint64_t> errors_{0};
};

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (absl::Status checked = CheckOptions(options); !checked.ok()) {
    return checked;
  }
  std::vector<Endpoint> endpoints;
  if (!options.endpoints.empty()) {
    absl::StatusOr<std::vector<Endpoint>> parsed =
        client::internal::ParseEndpoints(options.endpoints);
    if (!parsed.ok()) return parsed.status();
    endpoints = *std::move(parsed);
  }
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status started = impl->Start(endpoints); !started.ok()) {
    return started;
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

absl::StatusOr<uint64_t> Client::Next() { return impl_->Next(); }

absl::StatusOr<std::vector<uint64_t>> Client::NextBatch(int64_t count) {
  return impl_->NextBatch(count);
}

ClientStats Client::Stats() const { return impl_->Stats(); }

std::vector<std::string> Client::Endpoints() const {
  return impl_->Endpoints();
}

}  // namespace snowflake
