// A small synchronous client for etcd's v3 gRPC API: the key-value, lease and
// authentication calls that worker leases need. Every call has a deadline,
// fails over between endpoints, and may use TLS and a username/password. No
// gRPC type appears here, so users do not compile gRPC headers.
#ifndef SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_
#define SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::etcd {

// PEM files for TLS. Use with "https://" endpoints.
struct TlsOptions {
  // CA bundle that verifies the server; empty: the system's roots.
  std::string ca_file;
  // Client certificate and its key, for an etcd started with
  // --client-cert-auth; both or neither.
  std::string cert_file;
  std::string key_file;
};

struct Options {
  // "http://host:port" or "https://host:port" (a bare "host:port" means
  // http, or https when `tls` is set). Tried in order; see EtcdClient.
  std::vector<std::string> endpoints;
  // Deadline of one attempt of one call on one endpoint.
  std::chrono::milliseconds timeout{2000};
  // How long an attempt waits for a connection to an endpoint that has none
  // before it moves on.
  std::chrono::milliseconds dial_timeout{2000};
  std::optional<TlsOptions> tls;
  // When set, the client authenticates and sends etcd's token with every
  // call (re-authenticating once when etcd rejects the token).
  std::string username;
  std::string password;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  // 0: no lease attached.
  int64_t lease = 0;
};

// One condition of a transaction, on one key. A key that does not exist has
// create_revision, mod_revision, version and lease 0 and an empty value.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Result { kEqual, kGreater, kLess, kNotEqual };

  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  // The operand for every target but kValue.
  int64_t number = 0;
  // The operand for kValue.
  std::string value;

  // True when `key` does not exist ("create only if absent").
  static Compare Absent(std::string key);
  // True while `key` exists and is bound to `lease`.
  static Compare LeaseIs(std::string key, int64_t lease);
  // True while `key` holds exactly `value`.
  static Compare ValueIs(std::string key, std::string value);
  // True while `key` was last written at `revision`.
  static Compare ModRevisionIs(std::string key, int64_t revision);
};

// One operation of a transaction branch.
struct Op {
  enum class Type { kGet, kGetPrefix, kPut, kDelete };

  Type type = Type::kGet;
  std::string key;  // the prefix for kGetPrefix
  std::string value;
  int64_t lease = 0;

  static Op Get(std::string key);
  static Op GetPrefix(std::string prefix);
  // `lease` 0: the key outlives every lease.
  static Op Put(std::string key, std::string value, int64_t lease = 0);
  static Op Delete(std::string key);
};

// Atomically: if every `compare` holds, run `success`, else `failure`.
struct Transaction {
  std::vector<Compare> compare;
  std::vector<Op> success;
  std::vector<Op> failure;
};

// The result of one Op: `kvs` for gets, `deleted` for deletes.
struct OpResult {
  std::vector<KeyValue> kvs;
  int64_t deleted = 0;
};

struct TxnResult {
  // Whether the compares held (and `success` ran).
  bool succeeded = false;
  // The store revision after the transaction.
  int64_t revision = 0;
  // One per Op of the branch that ran, in order.
  std::vector<OpResult> results;
};

struct Lease {
  int64_t id = 0;
  // As granted by etcd (it may raise a TTL below its minimum).
  int64_t ttl_seconds = 0;
};

struct LeaseStatus {
  int64_t id = 0;
  // False when the lease has expired, was revoked or never existed.
  bool found = false;
  // Remaining seconds (rounded by etcd); meaningful when `found`.
  int64_t ttl_seconds = 0;
  int64_t granted_ttl_seconds = 0;
  // The keys bound to the lease (only when asked for).
  std::vector<std::string> keys;
};

// Thread-safe; calls may run concurrently.
//
// Fail-over: a call starts at the endpoint that last answered. When an
// attempt ends in UNAVAILABLE or DEADLINE_EXCEEDED (no connection, member
// down or frozen, no leader), the call tries the next endpoint, each once;
// so a call returns within about endpoints * (dial_timeout + timeout), plus
// one timeout per authentication. Other errors come back at once. A mutation
// whose attempt timed out may still have been applied, so a retried
// Put/Txn/LeaseRevoke can report what the first attempt did (e.g. a
// create-if-absent Txn failing on our own key).
//
// Errors keep etcd's gRPC code (the numbering is Abseil's) with a message
// naming the call and the endpoint(s), e.g. "etcd Put at http://a:2379,
// http://b:2379: unavailable: http://a:2379: ...; http://b:2379: ...".
class EtcdClient {
 public:
  // Checks the options and reads the TLS files; connects lazily.
  // Errors: kInvalidArgument (no or malformed endpoint, http endpoint with
  // TLS options, half a client key pair), kNotFound (unreadable TLS file).
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(Options options);

  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The value of `key`, or nullopt when it does not exist. Linearizable.
  absl::StatusOr<std::optional<KeyValue>> Get(const std::string& key);
  // Every key starting with `prefix`, in key order. Linearizable.
  absl::StatusOr<std::vector<KeyValue>> GetPrefix(const std::string& prefix);
  // Writes `key`; `lease` 0 keeps it until deleted, else it goes with the
  // lease. Errors: kNotFound when the lease does not exist.
  absl::Status Put(const std::string& key, const std::string& value,
                   int64_t lease = 0);
  // Deletes `key`; returns how many keys went (0 or 1).
  absl::StatusOr<int64_t> Delete(const std::string& key);
  // Runs `txn` atomically.
  absl::StatusOr<TxnResult> Txn(const Transaction& txn);

  // Grants a lease of `ttl_seconds`.
  absl::StatusOr<Lease> LeaseGrant(int64_t ttl_seconds);
  // Revokes lease `id`, deleting its keys. Errors: kNotFound when it is gone.
  absl::Status LeaseRevoke(int64_t id);
  // Renews lease `id` once over the keep-alive stream; returns its new TTL
  // in seconds, 0 when the lease no longer exists.
  absl::StatusOr<int64_t> LeaseKeepAliveOnce(int64_t id);
  // The remaining time of lease `id` (and its keys when `with_keys`).
  absl::StatusOr<LeaseStatus> LeaseTimeToLive(int64_t id,
                                              bool with_keys = false);

  // The endpoint that answered last (where the next call starts).
  std::string CurrentEndpoint() const;

 private:
  class Impl;
  explicit EtcdClient(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace snowflake::etcd

#endif  // SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_
