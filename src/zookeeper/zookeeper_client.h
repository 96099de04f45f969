// A small client for ZooKeeper over its C client (libzookeeper_mt): one
// session, the znode calls worker leases need (create, read, compare-and-set,
// delete, list, one-shot watches) and what the session says about itself.
// No ZooKeeper type appears here, so users do not compile zookeeper.h.
#ifndef SNOWFLAKE_SRC_ZOOKEEPER_ZOOKEEPER_CLIENT_H_
#define SNOWFLAKE_SRC_ZOOKEEPER_ZOOKEEPER_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::zookeeper {
namespace internal {
class Session;
}  // namespace internal

// Where a session stands, as the C client last reported it.
enum class SessionState {
  // No session yet, or the connection to the server was lost and the client
  // is reconnecting (to any listed server) within the same session.
  kConnecting,
  kConnected,
  // The ensemble ended the session: its ephemeral nodes and watches are
  // gone. Final: make a new client.
  kExpired,
  // The server refused the credentials. Final: make a new client.
  kAuthFailed,
};

// "CONNECTING", "CONNECTED", "EXPIRED", "AUTH_FAILED".
const char* SessionStateName(SessionState state);

struct ZooKeeperOptions {
  // "host:port,host:port[/chroot]". With a chroot every path of every call
  // is taken relative to it (the chroot node must exist for calls to work).
  std::string hosts;
  // Asked of the ensemble, which clamps it to [2, 20] x its tickTime unless
  // configured otherwise; see negotiated_session_timeout().
  std::chrono::milliseconds session_timeout{30000};
  // "user:password" for ZooKeeper's digest scheme; empty: none. With it,
  // nodes are created readable and writable only by this user (the
  // creator-all ACL); without it, by anyone (the open ACL).
  std::string digest_auth;
  // How long Connect waits for a session (and the digest auth reply).
  std::chrono::milliseconds connect_timeout{10000};
  // How long one call waits for the server's reply; see ZooKeeperClient.
  std::chrono::milliseconds call_timeout{10000};
  // Called with every change of session state, in order, on the C client's
  // completion thread (the thread of watch callbacks). Must not block or
  // call this client: replies to calls are delivered on that same thread.
  std::function<void(SessionState)> on_session_event;
  // Microseconds on the clock last_heard_micros() reads; never goes back.
  // Default: CLOCK_BOOTTIME, the clock of the lease's BootClock, so that a
  // lease can compare it with its own deadlines.
  std::function<int64_t()> now_micros;
};

// The stat fields of a znode worth having.
struct NodeStat {
  // Times the data was set since creation; the version compare-and-set and
  // Delete compare with.
  int32_t version = 0;
  // Changes of the children list.
  int32_t cversion = 0;
  // The zxid (transaction id) that created and that last modified the node.
  int64_t czxid = 0;
  int64_t mzxid = 0;
  // The session that owns an ephemeral node; 0 for a persistent node.
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
};

struct Node {
  std::string value;
  NodeStat stat;
};

enum class CreateMode {
  kPersistent,
  // Deleted by the ensemble when the creating session ends (closed or
  // expired).
  kEphemeral,
};

// One firing of a watch.
struct WatchEvent {
  enum class Type {
    kCreated,
    kDeleted,
    kDataChanged,
    // The session expired (or its auth failed) before the node changed: the
    // watch is gone and will not fire. Read the node with a new session.
    kSessionLost,
    // The connection dropped. Not a firing: the watch stays armed and fires
    // later, once the session is back or lost, but until then a change goes
    // unseen, and if the session was ended on the server the news waits for
    // a reconnection that may take seconds. Reported at every drop.
    kDisconnected,
  };
  Type type = Type::kCreated;
  // The watched path, relative to the chroot.
  std::string path;
};

// Compare-and-set and Delete accept any version.
inline constexpr int32_t kAnyVersion = -1;

// One operation of a Multi.
struct Op {
  enum class Type {
    kCheck,   // Fails unless `path` exists at `version`.
    kCreate,  // Create `path` holding `value` as `mode`.
    kSet,     // Compare-and-set `path` to `value` on `version`.
    kDelete,  // Delete `path` on `version`.
  };
  Type type = Type::kCheck;
  std::string path;
  std::string value;
  int32_t version = kAnyVersion;
  CreateMode mode = CreateMode::kPersistent;

  static Op Check(std::string path, int32_t version);
  static Op Create(std::string path, std::string value, CreateMode mode);
  static Op Set(std::string path, std::string value, int32_t version);
  static Op Delete(std::string path, int32_t version);
};

// What a Multi the server answered did: all its operations, or none.
struct MultiResult {
  // -1: every operation was applied. Else the index of the first one that
  // failed (nothing was applied), and its error as the single calls give
  // it (e.g. IsBadVersion, kNotFound, kAlreadyExists).
  int failed_op = -1;
  absl::Status error;
  // When applied: per operation, the new stat of a kSet (default for the
  // others; a kCreate's node is at version 0).
  std::vector<NodeStat> stats;
};

// Thread-safe: calls may run concurrently from any threads but the C
// client's own (callbacks must not call the client; see on_session_event).
//
// Each call sends one request and waits up to call_timeout for its reply.
// There is no retry: the C client reconnects by itself, within the session,
// to any listed server, and a call made meanwhile waits for that or fails.
// Errors, from the client's side (Abseil's retry guide):
//   kUnavailable: connection lost or not yet back, server timeout, session
//     moved or the client closing; another try may work. Also the session
//     EXPIRED: only another try with a new client works (IsSessionExpired).
//   kDeadlineExceeded: no reply within call_timeout.
//   After either, a mutation may or may not have been applied: read back.
//   kNotFound (no node, or no parent for Create), kAlreadyExists (Create),
//   kFailedPrecondition (version mismatch: IsBadVersion; Delete of a node
//   with children; a child for an ephemeral node), kPermissionDenied (the
//   node's ACL refuses this session's auth, or auth failed),
//   kInvalidArgument (malformed path).
// Messages name the call, the path and the hosts, e.g. "ZooKeeper set /a at
// 127.0.0.1:2181: bad version".
//
// Destroying the client closes the session (its ephemeral nodes go at once)
// and stops the C client's threads. It waits for the server to confirm the
// close (up to about 4.5 s when the server is unresponsive). Callbacks may
// run until the destructor returns, never after; a watch that has not fired
// by then never calls its callback. Calls must not be in progress.
class ZooKeeperClient {
 public:
  // Starts a session and waits until it is CONNECTED, the digest auth (if
  // any) is accepted, and one request has been answered (so that
  // last_heard_micros() is set). Errors: kInvalidArgument (no hosts, a
  // malformed host list, auth not "user:password"), kUnavailable (no
  // session within connect_timeout; the message names the hosts and the
  // state reached), kPermissionDenied (auth refused).
  static absl::StatusOr<std::unique_ptr<ZooKeeperClient>> Connect(
      ZooKeeperOptions options);

  ~ZooKeeperClient();
  ZooKeeperClient(const ZooKeeperClient&) = delete;
  ZooKeeperClient& operator=(const ZooKeeperClient&) = delete;

  // Creates `path` holding `value`; returns its stat. kAlreadyExists if it
  // exists, whoever made it: create-if-absent.
  absl::StatusOr<NodeStat> Create(const std::string& path,
                                  std::string_view value, CreateMode mode);
  // The value and stat of `path`. kNotFound if it does not exist.
  absl::StatusOr<Node> Get(const std::string& path);
  // The stat of `path`, or nullopt if it does not exist.
  absl::StatusOr<std::optional<NodeStat>> Exists(const std::string& path);
  // Compare-and-set: writes `value` only if the node's version is
  // `expected_version` (or any with kAnyVersion); returns the new stat.
  // kFailedPrecondition with IsBadVersion() if the version differs (the
  // value is then unchanged), kNotFound if the node does not exist.
  absl::StatusOr<NodeStat> Set(const std::string& path, std::string_view value,
                               int32_t expected_version);
  // Deletes `path` if its version is `expected_version` (or any with
  // kAnyVersion). kNotFound, or kFailedPrecondition (IsBadVersion, or the
  // node has children).
  absl::Status Delete(const std::string& path, int32_t expected_version);
  // The names (not paths) of the children of `path`, sorted. kNotFound.
  absl::StatusOr<std::vector<std::string>> Children(const std::string& path);
  // Applies `ops` atomically: all of them, or none when one fails (then
  // MultiResult says which and why). A status only when there is no answer
  // (kUnavailable, kDeadlineExceeded: it may or may not have been applied)
  // or for an empty `ops` (kInvalidArgument).
  absl::StatusOr<MultiResult> Multi(const std::vector<Op>& ops);

  // Sets a ONE-SHOT watch on `path` and returns its stat at that moment
  // (nullopt if absent). `on_event` fires at most once, on the C client's
  // completion thread (possibly before Watch returns): when the node is
  // created, deleted or its data set (kCreated / kDeleted / kDataChanged),
  // or with kSessionLost if the session ends first. Before that it may run
  // with kDisconnected at each connection loss. It does not re-arm: to
  // go on watching, call Watch again and compare the stat it returns, as
  // changes between the firing and the new watch are not reported. The
  // watch survives connection loss within the session (the C client
  // re-registers it on reconnect, and the server reports what changed
  // meanwhile). If Watch fails, `on_event` is never called, except after
  // kDeadlineExceeded / kUnavailable, when the watch may have been set.
  // `on_event` must not block or call this client.
  absl::StatusOr<std::optional<NodeStat>> Watch(
      const std::string& path, std::function<void(const WatchEvent&)> on_event);

  // The session's state as of the last session event.
  SessionState state() const;
  // The session id (the ephemeral_owner of this session's nodes); 0 before
  // the first connection.
  int64_t session_id() const;
  // The timeout the server granted at the last (re)connection, which the
  // ensemble enforces: after this long without hearing from the client it
  // expires the session. The C client reports it (zoo_recv_timeout) only
  // per connection; it may differ from the requested one.
  std::chrono::milliseconds negotiated_session_timeout() const;
  // On now_micros' clock: when this client last SENT a request that the
  // server then answered (not when the answer came). The server renews the
  // session's timeout when it receives a request, so the session lives at
  // least until last_heard_micros() + negotiated_session_timeout(), as the
  // ensemble measures it. What the C client does NOT tell: its own pings
  // (every third of the timeout) and their replies, the handshake's timing,
  // or that the session expired while it is cut off. It learns of expiry
  // only when a server answers a reconnection, so during a partition it
  // reports kConnecting, never kExpired: a fencing deadline must come from
  // this time, not from state(). Caveats for that deadline's margin: a
  // read answered by a follower proves the session alive on the follower,
  // which passes the renewal to the leader only on the leader's next ping
  // (up to syncLimit x tickTime later if the follower is cut off); writes
  // go through the leader. The ensemble rounds expiry up to a tick. 0 until
  // Connect's first request is answered.
  int64_t last_heard_micros() const;
  // "ip:port" of the server of the last CONNECTED event; empty before.
  // For tests and diagnostics.
  std::string connected_server() const;
  // The host list and chroot this client was made with.
  const std::string& hosts() const;

 private:
  explicit ZooKeeperClient(std::unique_ptr<internal::Session> session);

  std::unique_ptr<internal::Session> session_;
};

// True if `status` says the session expired (a kUnavailable that only a new
// session fixes).
bool IsSessionExpired(const absl::Status& status);
// True if `status` is Set's or Delete's version mismatch
// (kFailedPrecondition).
bool IsBadVersion(const absl::Status& status);

// The C client's log: it writes on its own threads, to stderr by default,
// at a level that is process-wide (and its per-handle log callback carries
// no context), so this setting is process-wide too.
enum class LogLevel { kError, kWarn, kInfo, kDebug };
// Lines at `level` or more severe go to `sink` (one line per call, never two
// at a time); a null `sink` means stderr. Without a call, the first Connect
// sets kWarn to stderr (the C client's own default, INFO, logs every
// connection attempt). Call before the first Connect: the C client reads its
// level without synchronization.
void SetLogOutput(LogLevel level, std::function<void(std::string_view)> sink);

}  // namespace snowflake::zookeeper

#endif  // SNOWFLAKE_SRC_ZOOKEEPER_ZOOKEEPER_CLIENT_H_
