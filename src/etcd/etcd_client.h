// A small synchronous client for etcd's v3 gRPC API: the key-value, lease,
// watch and authentication calls that worker leases need. Every call has a
// deadline, fails over between endpoints, and may use TLS and a
// username/password. No gRPC type appears here, so users do not compile gRPC
// headers.
#ifndef SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_
#define SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
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

// What etcd says about itself in every response.
struct ResponseHeader {
  uint64_t cluster_id = 0;
  // The member that answered.
  uint64_t member_id = 0;
  // The store's revision when the request was applied (lease calls: the
  // current one; watch responses: their events', or later). Never 0: a
  // response without one (a watch's compaction notice) is not reported.
  int64_t revision = 0;
  uint64_t raft_term = 0;
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
  // When set, called with the header of every successful response of every
  // call and of every watch response, on the thread that made the call (a
  // watch's own thread for watch responses), before the call returns. So it
  // must be thread-safe; responses on different threads may reach it out of
  // revision order. Lets a caller notice an etcd restored from an older
  // snapshot (a lower revision) or replaced (another cluster_id).
  std::function<void(const ResponseHeader&)> on_header;
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

// One change of a watched key, or news about the watch itself.
struct WatchEvent {
  enum class Type {
    kPut,
    kDelete,
    // The stream broke (endpoint down, frozen, lost its leader); the watch
    // is being re-opened. Delivered once per break.
    kBroken,
    // Events since the last one seen were compacted away and are lost; the
    // watch goes on from the oldest revision etcd kept (in `revision`), so
    // nothing after that is missed. Read the key again.
    kCompacted,
  };
  Type type = Type::kPut;
  // kPut: the new value. kDelete: the key, with mod_revision the revision
  // of the deletion.
  KeyValue kv;
  // The header revision of the response that carried the event;
  // kCompacted: etcd's compaction revision.
  int64_t revision = 0;
  // kBroken, kCompacted: why.
  std::string error;
};

// A running watch. Destroying it cancels the watch and joins its thread,
// promptly even while etcd is down; it must not be destroyed from its own
// on_event.
class KeyWatch {
 public:
  virtual ~KeyWatch() = default;
};

// Pause between two attempts to re-open a broken watch.
inline constexpr std::chrono::milliseconds kWatchRetryInterval{150};

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

  // Watches `key` from `start_revision` (inclusive; 0: changes after now).
  // Returns once etcd has created the watch on some endpoint (fail-over and
  // errors as for the other calls); events may arrive before it returns.
  // `on_event` runs on the watch's own thread, one event at a time, in
  // revision order. When the stream breaks it gets kBroken once, and the
  // watch is re-opened (the next endpoint, a new connection, about every
  // kWatchRetryInterval) from the revision after the last event seen, so no
  // event is missed; if that revision was compacted, kCompacted, and the
  // watch goes on from the compaction revision. The watch may outlive the
  // client.
  absl::StatusOr<std::unique_ptr<KeyWatch>> Watch(
      const std::string& key, int64_t start_revision,
      std::function<void(const WatchEvent&)> on_event);

  // The endpoint that answered last (where the next call starts).
  std::string CurrentEndpoint() const;

 private:
  class Impl;
  explicit EtcdClient(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace snowflake::etcd

#endif  // SNOWFLAKE_SRC_ETCD_ETCD_CLIENT_H_
