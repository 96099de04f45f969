// The primitives the lease protocol (docs/operations.md, "The lease
// protocol, step by step") needs from a coordinator, and nothing else: one
// interface that etcd and ZooKeeper each implement in a few hundred lines,
// so that the claim, the HWM fence and the loss detection are written once.
//
// A Coordinator is one cluster's key space on one coordinator (a prefix and
// a cluster name): its config, the claims `workers/<id>` and the marks
// `hwm/<id>`. Keys are named by worker ID, never by path, so that each
// backend lays them out (and adds companions such as etcd's `nodes/<name>`)
// as it must. Why each primitive exists, and what it must guarantee for the
// safety argument ("Why no two nodes issue the same ID"):
//
// - Session (OpenSession, KeepAlive, CloseSession). etcd: a granted lease;
//   ZooKeeper: the client's session. A claim lives exactly as long as the
//   session it was created on. KeepAlive reports evidence, not a verdict:
//   `confirmed_micros`, the LeaseClock time at which a request was sent
//   that the coordinator answered with the session alive, and the TTL it
//   then had. The protocol's fencing deadline is confirmed + TTL - margin;
//   since the coordinator's expiry clock started no earlier than the send,
//   the session cannot have expired before that deadline (up to the
//   margin's allowance for clock rates). An unreachable coordinator is an
//   error (kUnavailable, kDeadlineExceeded): unreachable is not lost. Only
//   `alive == false` (etcd: TTL 0; ZooKeeper: SESSION_EXPIRED) is loss.
//   ZooKeeper: KeepAlive sends a cheap read on the session and reports its
//   send time with the negotiated session timeout; CONNECTING (no server
//   answers) is an error, SESSION_EXPIRED is `alive == false`.
//
// - Claim (CreateClaim). Create-if-absent of `workers/<id>`, bound to the
//   session (etcd: a transaction "absent -> put with lease"; ZooKeeper: an
//   ephemeral znode). Must be atomic and linearizable: of two sessions
//   racing, exactly one gets `won`. A retried attempt that finds the claim
//   already bound to this very session must report `won` (an earlier
//   attempt was applied late). This is what makes ownership exclusive.
//
// - Mark (ReadMark, CompareAndSetMark). `hwm/<id>` is persistent and has a
//   Version (etcd: mod revision; ZooKeeper: the znode's data version). The
//   set must apply only if BOTH the mark is still at `expected` AND the
//   claim on the ID is still the one this session created (etcd: one
//   transaction comparing lease and mod revision; ZooKeeper: a multi with a
//   check on the claim and a setData/create on the mark's version). So a
//   stale or late write can never move the mark, and only the holder moves
//   it: the two halves of "the HWM is the fence". ZooKeeper's check op
//   compares a version, not the ephemeral owner, and a claim deleted by
//   hand and re-created by another session starts at the same version: its
//   implementation reads the claim's owner back after an applied set and
//   reports the claim lost (claim_held false) when it is another session's
//   (docs/operations.md, "Version, not owner").
//
// - Lists (ListClaims, ListMarks). Any consistent-enough snapshot: they
//   only order candidates; the claim itself decides.
//
// - Loss (WatchClaim, VerifyClaim). The claim's deletion or re-binding to
//   another session must be delivered (etcd: a watch from the claim's
//   revision on; ZooKeeper: an exists watch, re-armed). Missed events must
//   be reported as kMissed so the protocol reads the claim again, never
//   silently skipped. A broken stream is kBroken: unreachable, not lost.
//
// - History (TakeHistory, ResetHistory, VerifyClaim). A coordinator
//   restored from an older snapshot has forgotten claims and holds older
//   marks; the protocol fences at once when it learns that "the
//   coordinator's history went back" (etcd: a revision below one seen, or
//   another cluster ID). TakeHistory() reports definite evidence, and
//   suspicion (an answer that may come from a lagging member); VerifyClaim
//   settles suspicion with a linearizable read. ZooKeeper's C client shows
//   no reply's zxid, so it has no such evidence: a restored ensemble
//   refuses the session (it saw newer transactions), and KeepAlive then
//   reads the claim through a fresh session and reports it lost when it is
//   gone or another's.
//
// - Config (CreateOrReadConfig). Create-once, then read: every node of a
//   cluster compares its layout and region map with what is stored.
//
// Errors follow STYLE.md: kUnavailable or kDeadlineExceeded when the
// coordinator cannot be reached (retry later), kNotFound where stated.
//
// Thread safety: implementations are thread-safe; every method may be called
// from any thread (the protocol calls from its controlling thread, its
// keep-alive thread and the HWM keeper's thread).
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::lease_protocol {

// A node's session with the coordinator. `id` is the coordinator's (etcd
// lease ID, ZooKeeper session ID); 0 means none.
struct Session {
  int64_t id = 0;
  // The TTL the coordinator granted or negotiated (it may differ from the
  // one asked for).
  int64_t ttl_millis = 0;
  // LeaseClock time at which the request that opened the session was sent.
  int64_t confirmed_micros = 0;
};

// What a keep-alive learned.
struct SessionEvidence {
  // False: the coordinator says the session is gone (expired, closed):
  // every claim on it is lost.
  bool alive = false;
  std::string reason;  // Why, when !alive: the loss's reason.
  // LeaseClock time at which the confirmed request was sent (ZooKeeper:
  // the last server response), and the TTL then in force.
  int64_t confirmed_micros = 0;
  int64_t ttl_millis = 0;
};

// A value's version, opaque to the protocol: only compared for equality and
// handed back to the coordinator that returned it.
struct Version {
  bool exists = false;
  int64_t token = 0;  // etcd mod revision, ZooKeeper data version.
  friend bool operator==(const Version&, const Version&) = default;
};

// What a holder says about itself in its claim.
struct HolderInfo {
  std::string node;
  std::vector<std::string> addresses;
  std::string region;
  int64_t start_unix_millis = 0;
};

// One claim, as listed.
struct ClaimEntry {
  int64_t worker_id = -1;
  std::string node;  // "?" when the value does not decode.
};

// One stored mark, as listed (entries that do not decode are left out).
struct MarkEntry {
  int64_t worker_id = -1;
  int64_t unix_millis = 0;
};

struct ClaimResult {
  bool won = false;
  // Where WatchClaim starts so that nothing after the claim is missed
  // (etcd: the claim's revision; ZooKeeper: unused). Meaningful if `won`.
  int64_t position = 0;
};

struct StoredMark {
  std::optional<int64_t> unix_millis;  // nullopt: never stored, or damaged.
  Version version;
  // Non-empty: the value exists (at `version`) but is not a mark; why,
  // naming the key. The version is still good for the next set.
  std::string damage;
};

struct CasResult {
  bool applied = false;
  // False: the claim is no longer this session's; nothing was written.
  bool claim_held = true;
  std::string reason;  // Why, when !claim_held: the loss's reason.
  // When not applied and the claim is held: the mark as it is now.
  StoredMark current;
  // When applied: the new version.
  Version version;
};

// What a watch saw happen to a claim.
struct ClaimEvent {
  enum class Type {
    kLost,    // Deleted, or bound to another session: `reason` says which.
    kMissed,  // Events were lost: read the claim again (VerifyClaim).
    kBroken,  // The stream broke; it resumes by itself. Not a loss.
  };
  Type type = Type::kBroken;
  std::string reason;
};

// A running watch; destroying it cancels it and joins its thread. Must not
// be destroyed from its own callback.
class ClaimWatch {
 public:
  virtual ~ClaimWatch() = default;
};

// The restore evidence gathered from every answer since the last Reset.
struct HistoryEvidence {
  // Non-empty: the coordinator's history certainly went back or it is
  // another cluster; fence now. The text is the reason.
  std::string went_back;
  // An answer looked older than one seen before (maybe a lagging member):
  // call VerifyClaim. Taking the evidence clears this flag.
  bool suspect = false;
};

// Whether a claim is still ours, read linearizably.
struct ClaimCheck {
  bool held = false;
  std::string reason;  // Why not, when !held.
};

class Coordinator {
 public:
  Coordinator() = default;
  virtual ~Coordinator() = default;
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // "etcd", "zookeeper": LeaseInfo::mode.
  virtual std::string Mode() const = 0;
  // For messages: "etcd key /snowflake/c/hwm/3", and the claim's and the
  // config's.
  virtual std::string DescribeMark(int64_t worker_id) const = 0;
  virtual std::string DescribeClaim(int64_t worker_id) const = 0;
  virtual std::string DescribeConfig() const = 0;

  // Creates the cluster config as `want` if absent; returns the stored text
  // (`want` when created). Errors: kUnavailable also when it vanished
  // between the create and the read.
  virtual absl::StatusOr<std::string> CreateOrReadConfig(
      const std::string& want) = 0;

  // Opens a session of about `ttl_seconds`.
  virtual absl::StatusOr<Session> OpenSession(int64_t ttl_seconds) = 0;
  // Renews the session once (ZooKeeper: reports the client's state).
  virtual absl::StatusOr<SessionEvidence> KeepAlive(int64_t session) = 0;
  // Ends the session; its claims go at once. Errors: kNotFound when it was
  // already gone.
  virtual absl::Status CloseSession(int64_t session) = 0;

  virtual absl::StatusOr<std::vector<ClaimEntry>> ListClaims() = 0;
  virtual absl::StatusOr<std::vector<MarkEntry>> ListMarks() = 0;

  // Create-if-absent of the claim on `worker_id`, bound to `session`.
  virtual absl::StatusOr<ClaimResult> CreateClaim(int64_t worker_id,
                                                  const HolderInfo& holder,
                                                  int64_t session) = 0;
  // Reads the claim linearizably; also settles suspected history (a
  // history that went back yields !held with the reason).
  virtual absl::StatusOr<ClaimCheck> VerifyClaim(int64_t worker_id,
                                                 int64_t session) = 0;
  // Watches the claim from `position` (ClaimResult::position) on; events
  // arrive on the watch's own thread, one at a time.
  virtual absl::StatusOr<std::unique_ptr<ClaimWatch>> WatchClaim(
      int64_t worker_id, int64_t session, int64_t position,
      std::function<void(const ClaimEvent&)> on_event) = 0;

  // A damaged value is not an error here: see StoredMark::damage.
  virtual absl::StatusOr<StoredMark> ReadMark(int64_t worker_id) = 0;
  // Sets the mark to `unix_millis` if it is still at `expected` and the
  // claim is still `session`'s (see the file comment).
  virtual absl::StatusOr<CasResult> CompareAndSetMark(int64_t worker_id,
                                                      int64_t session,
                                                      const Version& expected,
                                                      int64_t unix_millis) = 0;

  // Takes the restore evidence (see HistoryEvidence).
  virtual HistoryEvidence TakeHistory() = 0;
  // Forgets what was seen: a fresh claim in the coordinator as it is now.
  virtual void ResetHistory() = 0;
};

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_H_
