// The C++ client of a snowflake cluster: takes IDs from the nodes' HTTP or
// gRPC API, finds the nodes (a fixed list, or the worker claims a cluster keeps
// on etcd or ZooKeeper), fails over between them, and for Next() keeps a buffer
// of IDs fetched ahead that never hands out one older than a bound.
// docs/client.md says what each option costs.
#ifndef SNOWFLAKE_CLIENT_H_
#define SNOWFLAKE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"

namespace snowflake {

// Where the client finds the nodes when ClientOptions::endpoints is empty:
// the cluster's worker claims (`<prefix>/<cluster>/workers/<id>`, each
// naming the addresses its node advertises, snowflaked's --advertise) on
// etcd or ZooKeeper. Set exactly one of `etcd_endpoints` and
// `zookeeper_hosts`.
struct DiscoveryOptions {
  // etcd client URLs, "http://host:port" or "https://host:port".
  std::vector<std::string> etcd_endpoints;
  // ZooKeeper's "host:port,host:port[/chroot]".
  std::string zookeeper_hosts;
  // The cluster's name and the key prefix (etcd) or root znode (ZooKeeper),
  // as given to snowflaked.
  std::string cluster = "default";
  std::string prefix = "/snowflake";
  // etcd TLS (PEM files) and authentication; ZooKeeper digest credentials
  // ("user:password").
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  std::string etcd_user;
  std::string etcd_password;
  std::string zookeeper_auth;
  // The claims are read again this often, and as soon as every known node
  // has failed (at most once per `min_refresh_interval`), so that nodes
  // that come and go are followed.
  std::chrono::milliseconds refresh_interval{5000};
  std::chrono::milliseconds min_refresh_interval{250};
  // Per coordinator call (and to dial one etcd endpoint, or to open a
  // ZooKeeper session).
  std::chrono::milliseconds timeout{2000};
};

// The buffer behind Next(). A background thread keeps between
// `low_watermark` and `high_watermark` batches queued behind the one being
// handed out, each batch sized from the observed rate of Next() (a quarter
// of `max_staleness` worth, doubled after a miss), within [min_batch,
// max_batch]. IDs older than `max_staleness` (measured from when the batch
// was requested) are dropped, never handed out: they become gaps.
struct PrefetchOptions {
  bool enabled = true;
  std::chrono::milliseconds max_staleness{1000};  // At least 20 ms.
  int64_t min_batch = 16;
  int64_t max_batch = 65'536;  // At most ClientOptions::max_batch.
  int low_watermark = 1;       // At least 1.
  int high_watermark = 2;      // At least low_watermark; at most 16.
};

// The protocol the client speaks to a node: HTTP/1.1 (GET /v1/ids) or gRPC
// (snowflake.v1.IdService/NextIds, plaintext).
enum class ClientTransport { kHttp, kGrpc };

struct ClientOptions {
  // The nodes, "http://host:port" (HTTP) or "grpc://host:port" (gRPC) each
  // ("http://[::1]:8080" for IPv6); the scheme picks the protocol of each.
  // Empty: discover them (`discovery`).
  std::vector<std::string> endpoints;
  DiscoveryOptions discovery;
  // For discovered nodes: the protocol to prefer among the addresses a
  // node's claim advertises (snowflaked adds "grpc://host:port" when it
  // serves gRPC). A node that advertises none of the preferred protocol is
  // asked over the other: kGrpc falls back to HTTP for a node without
  // --grpc-listen, or one of a version that does not advertise it. Fixed
  // `endpoints` ignore it.
  ClientTransport transport = ClientTransport::kHttp;

  // Every call returns within about this long, with IDs or an error.
  std::chrono::milliseconds deadline{2000};
  // One request to one node may take this long before the call moves on to
  // the next node (a node that is stopped or overloaded answers nothing).
  std::chrono::milliseconds attempt_timeout{500};
  // How long a node that dropped a connection, timed out or answered 503
  // without Retry-After is skipped (with Retry-After: that long instead).
  std::chrono::milliseconds node_backoff{1000};
  // The nodes' largest batch (snowflaked's max_batch): NextBatch refuses
  // more.
  int64_t max_batch = 100'000;
  // Idle keep-alive connections kept per node (HTTP; a gRPC node has one
  // channel, its calls multiplexed on one connection).
  int max_idle_connections = 16;

  PrefetchOptions prefetch;

  // For tests: the time source of deadlines, back-offs and staleness (not
  // owned; must outlive the client). Null: the system's monotonic clock.
  Clock* clock = nullptr;
};

// What a client has done since it was created. Counters only grow.
struct ClientStats {
  uint64_t buffer_hits = 0;    // Next() answered from the buffer.
  uint64_t buffer_misses = 0;  // Next() found the buffer empty and waited.
  uint64_t refills = 0;        // Batches fetched into the buffer.
  uint64_t failovers = 0;      // Requests sent to another node after one
                               // failed or was skipped.
  uint64_t dropped_stale = 0;  // Buffered IDs dropped for age (gaps).
  uint64_t errors = 0;         // Calls that returned an error.
  uint64_t requests = 0;       // Requests sent to nodes.
  uint64_t discoveries = 0;    // Successful reads of the coordinator.
  uint64_t nodes = 0;          // Nodes known now.
};

// A client of one cluster. Thread-safe: Next, NextBatch, Stats and
// Endpoints may be called from any number of threads at once. Destroying it
// stops its background threads (refill, discovery) and drops the buffered
// IDs (gaps); no call may be running then. Not copyable.
//
// Errors follow Abseil's retry guide, as the nodes' do: kUnavailable or
// kDeadlineExceeded when no node could answer within the deadline (a retry
// later may succeed); kInvalidArgument for a bad count; kOutOfRange for a
// count above the largest batch; what a node answers that no retry fixes
// (400, 413, 500 without Retry-After) comes back at once with its code and
// message, from any node, never retried elsewhere.
class Client {
 public:
  // Checks the options, finds the nodes (a first read of the coordinator,
  // within `discovery.timeout` per call) and starts the background threads.
  // Connects to nodes lazily. Errors: kInvalidArgument naming the bad value
  // (an endpoint that is not "http://host:port" or "grpc://host:port",
  // neither endpoints nor a coordinator, both etcd and ZooKeeper, an option
  // out of range);
  // kUnavailable naming the cluster when the coordinator cannot be read or
  // holds no claim with a usable address.
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClientOptions options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One ID. With prefetch, from the buffer (lock-free when it holds a fresh
  // ID), else waits for a refill up to the deadline; without, one request.
  absl::StatusOr<uint64_t> Next();

  // `count` IDs in one request to one node (failing over as Next does),
  // never from the buffer. Errors also: kInvalidArgument for count < 1,
  // kOutOfRange for count above `max_batch` (or the node's own limit),
  // each naming the count.
  absl::StatusOr<std::vector<uint64_t>> NextBatch(int64_t count);

  ClientStats Stats() const;

  // The nodes known now, "http://host:port" or "grpc://host:port", sorted.
  std::vector<std::string> Endpoints() const;

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_CLIENT_H_
