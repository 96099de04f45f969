#include "src/lease/etcd/etcd_coordinator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/protocol/claim_value.h"

namespace snowflake {

namespace schema = cluster_schema;
namespace lp = lease_protocol;

// Watches every response header: etcd's revision only grows and its
// cluster ID never changes, unless it was restored from an older snapshot
// (or the endpoints now reach another cluster). A lower revision may also
// come from a member that lags; the protocol then checks with a
// linearizable read (VerifyClaim) before it calls the claim lost.
class EtcdCoordinator::RevisionGuard {
 public:
  void Observe(const etcd::ResponseHeader& header) {
    if (header.cluster_id != 0) {
      uint64_t seen = 0;
      if (!cluster_id_.compare_exchange_strong(seen, header.cluster_id) &&
          seen != header.cluster_id) {
        other_cluster_.store(header.cluster_id);
      }
    }
    int64_t max = max_revision_.load();
    while (header.revision > max &&
           !max_revision_.compare_exchange_weak(max, header.revision)) {
    }
    if (header.revision < max) suspect_.store(true);
  }
  // A reason to fence now (another cluster answered), else "".
  std::string OtherCluster() const {
    const uint64_t other = other_cluster_.load();
    if (other == 0) return "";
    return absl::StrCat("etcd answered with cluster ID ", other, " instead of ",
                        cluster_id_.load(),
                        ": it was restored or replaced, or the endpoints "
                        "reach another cluster");
  }
  bool TakeSuspect() { return suspect_.exchange(false); }
  int64_t max_revision() const { return max_revision_.load(); }
  void Reset() {
    cluster_id_.store(0);
    other_cluster_.store(0);
    max_revision_.store(0);
    suspect_.store(false);
  }

 private:
  std::atomic<uint64_t> cluster_id_{0};
  std::atomic<uint64_t> other_cluster_{0};
  std::atomic<int64_t> max_revision_{0};
  std::atomic<bool> suspect_{false};
};

namespace {

// The etcd watch on a claim, its events translated.
class EtcdClaimWatch final : public lp::ClaimWatch {
 public:
  explicit EtcdClaimWatch(std::unique_ptr<etcd::KeyWatch> watch)
      : watch_(std::move(watch)) {}

 private:
  std::unique_ptr<etcd::KeyWatch> watch_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdCoordinator>> EtcdCoordinator::Create(
    etcd::Options options, std::string prefix, std::string cluster,
    LeaseClock& clock) {
  auto guard = std::make_shared<RevisionGuard>();
  options.on_header = [guard](const etcd::ResponseHeader& header) {
    guard->Observe(header);
  };
  auto client = etcd::EtcdClient::Create(std::move(options));
  if (!client.ok()) return client.status();
  return std::unique_ptr<EtcdCoordinator>(
      new EtcdCoordinator(*std::move(client), std::move(guard),
                          std::move(prefix), std::move(cluster), clock));
}

EtcdCoordinator::EtcdCoordinator(std::unique_ptr<etcd::EtcdClient> client,
                                 std::shared_ptr<RevisionGuard> guard,
                                 std::string prefix, std::string cluster,
                                 LeaseClock& clock)
    : client_(std::move(client)),
      guard_(std::move(guard)),
      prefix_(std::move(prefix)),
      cluster_(std::move(cluster)),
      clock_(clock) {}

EtcdCoordinator::~EtcdCoordinator() = default;

std::string EtcdCoordinator::DescribeMark(int64_t worker_id) const {
  return absl::StrCat("etcd key ",
                      schema::HwmKey(prefix_, cluster_, worker_id));
}

std::string EtcdCoordinator::DescribeClaim(int64_t worker_id) const {
  return absl::StrCat("etcd key ",
                      schema::WorkerKey(prefix_, cluster_, worker_id));
}

std::string EtcdCoordinator::DescribeConfig() const {
  return absl::StrCat("etcd key ", schema::ConfigKey(prefix_, cluster_));
}

absl::StatusOr<std::string> EtcdCoordinator::CreateOrReadConfig(
    const std::string& want) {
  const std::string key = schema::ConfigKey(prefix_, cluster_);
  etcd::Transaction txn;
  txn.compare.push_back(etcd::Compare::Absent(key));
  txn.success.push_back(etcd::Op::Put(key, want));
  txn.failure.push_back(etcd::Op::Get(key));
  auto result = client_->Txn(txn);
  if (!result.ok()) return result.status();
  if (result->succeeded) return want;
  if (result->results.empty() || result->results[0].kvs.empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd key ", key, " vanished while being read; retry"));
  }
  return result->results[0].kvs[0].value;
}

absl::StatusOr<lp::Session> EtcdCoordinator::OpenSession(int64_t ttl_seconds) {
  const int64_t sent = clock_.NowMicros();
  auto lease = client_->LeaseGrant(ttl_seconds);
  if (!lease.ok()) return lease.status();
  return lp::Session{lease->id, lease->ttl_seconds * 1000, sent};
}

absl::StatusOr<lp::SessionEvidence> EtcdCoordinator::KeepAlive(
    int64_t session) {
  const int64_t sent = clock_.NowMicros();
  auto ttl = client_->LeaseKeepAliveOnce(session);
  if (!ttl.ok()) return ttl.status();
  lp::SessionEvidence evidence{*ttl > 0, "", sent, *ttl * 1000};
  if (!evidence.alive) {
    evidence.reason = "etcd says the lease has expired or was revoked";
  }
  return evidence;
}

absl::Status EtcdCoordinator::CloseSession(int64_t session) {
  return client_->LeaseRevoke(session);
}

absl::StatusOr<std::vector<lp::ClaimEntry>> EtcdCoordinator::ListClaims() {
  auto held = client_->GetPrefix(schema::WorkersPrefix(prefix_, cluster_));
  if (!held.ok()) return held.status();
  std::vector<lp::ClaimEntry> claims;
  for (const etcd::KeyValue& kv : *held) {
    auto id = schema::IdOfKey(kv.key);
    if (!id) continue;
    auto holder = schema::DecodeHolder(kv.value);
    claims.push_back(
        lp::ClaimEntry{*id, holder.ok() ? holder->node : std::string("?")});
  }
  return claims;
}

absl::StatusOr<std::vector<lp::MarkEntry>> EtcdCoordinator::ListMarks() {
  auto hwms = client_->GetPrefix(schema::HwmPrefix(prefix_, cluster_));
  if (!hwms.ok()) return hwms.status();
  std::vector<lp::MarkEntry> marks;
  for (const etcd::KeyValue& kv : *hwms) {
    auto id = schema::IdOfKey(kv.key);
    auto mark = schema::DecodeHwm(kv.value);
    if (!id || !mark.ok()) continue;
    marks.push_back(lp::MarkEntry{*id, *mark});
  }
  return marks;
}

absl::StatusOr<lp::ClaimResult> EtcdCoordinator::CreateClaim(
    int64_t worker_id, const lp::HolderInfo& info, int64_t session) {
  const std::string value = lp::ClaimValue(info, worker_id, session);
  const std::string key = schema::WorkerKey(prefix_, cluster_, worker_id);
  etcd::Transaction txn;
  txn.compare.push_back(etcd::Compare::Absent(key));
  txn.success.push_back(etcd::Op::Put(key, value, session));
  txn.success.push_back(etcd::Op::Put(
      schema::NodeKey(prefix_, cluster_, info.node), value, session));
  txn.failure.push_back(etcd::Op::Get(key));
  auto result = client_->Txn(txn);
  if (!result.ok()) return result.status();
  if (result->succeeded) return lp::ClaimResult{true, result->revision};
  // A retried attempt may report our own earlier success as a conflict.
  if (!result->results.empty() && !result->results[0].kvs.empty() &&
      result->results[0].kvs[0].lease == session) {
    return lp::ClaimResult{true, result->results[0].kvs[0].mod_revision};
  }
  return lp::ClaimResult{false, 0};
}

absl::StatusOr<lp::ClaimCheck> EtcdCoordinator::VerifyClaim(int64_t worker_id,
                                                            int64_t session) {
  const int64_t seen = guard_->max_revision();
  const std::string key = schema::WorkerKey(prefix_, cluster_, worker_id);
  etcd::Transaction txn;  // No compare: a linearizable read of the claim.
  txn.success.push_back(etcd::Op::Get(key));
  auto result = client_->Txn(txn);
  if (!result.ok()) return result.status();
  if (result->revision < seen) {
    return lp::ClaimCheck{
        false, absl::StrCat("etcd's revision went back from ", seen, " to ",
                            result->revision,
                            ": it was restored from an older snapshot; claims "
                            "made since then are gone")};
  }
  if (result->results.empty() || result->results[0].kvs.empty() ||
      result->results[0].kvs[0].lease != session) {
    return lp::ClaimCheck{
        false, absl::StrCat("claim key ", key, " is gone or re-bound")};
  }
  return lp::ClaimCheck{true, ""};
}

absl::StatusOr<std::unique_ptr<lp::ClaimWatch>> EtcdCoordinator::WatchClaim(
    int64_t worker_id, int64_t session, int64_t position,
    std::function<void(const lp::ClaimEvent&)> on_event) {
  auto watch = client_->Watch(
      schema::WorkerKey(prefix_, cluster_, worker_id), position + 1,
      [session, on_event = std::move(on_event)](const etcd::WatchEvent& event) {
        switch (event.type) {
          case etcd::WatchEvent::Type::kDelete:
            on_event(lp::ClaimEvent{
                lp::ClaimEvent::Type::kLost,
                absl::StrCat("claim key ", event.kv.key,
                             " was deleted (lease revoked or expired, or "
                             "deleted by hand)")});
            break;
          case etcd::WatchEvent::Type::kPut:
            if (event.kv.lease != session) {
              on_event(lp::ClaimEvent{
                  lp::ClaimEvent::Type::kLost,
                  absl::StrCat("claim key ", event.kv.key,
                               " is now bound to another lease (",
                               event.kv.lease, ")")});
            }
            break;
          case etcd::WatchEvent::Type::kCompacted:
            on_event(lp::ClaimEvent{lp::ClaimEvent::Type::kMissed, ""});
            break;
          case etcd::WatchEvent::Type::kBroken:
            on_event(
                lp::ClaimEvent{lp::ClaimEvent::Type::kBroken, event.error});
            break;
        }
      });
  if (!watch.ok()) return watch.status();
  return std::unique_ptr<lp::ClaimWatch>(new EtcdClaimWatch(*std::move(watch)));
}

lp::StoredMark EtcdCoordinator::DecodeMark(
    int64_t worker_id, const std::vector<etcd::KeyValue>& kvs) const {
  lp::StoredMark stored;
  if (kvs.empty()) return stored;
  stored.version = lp::Version{true, kvs[0].mod_revision};
  auto mark = schema::DecodeHwm(kvs[0].value);
  if (mark.ok()) {
    stored.unix_millis = *mark;
  } else {
    stored.damage =
        absl::StrCat(DescribeMark(worker_id), ": ", mark.status().message());
  }
  return stored;
}

absl::StatusOr<lp::StoredMark> EtcdCoordinator::ReadMark(int64_t worker_id) {
  auto kv = client_->Get(schema::HwmKey(prefix_, cluster_, worker_id));
  if (!kv.ok()) return kv.status();
  std::vector<etcd::KeyValue> kvs;
  if (kv->has_value()) kvs.push_back(**kv);
  return DecodeMark(worker_id, kvs);
}

absl::StatusOr<lp::CasResult> EtcdCoordinator::CompareAndSetMark(
    int64_t worker_id, int64_t session, const lp::Version& expected,
    int64_t unix_millis) {
  const std::string worker_key =
      schema::WorkerKey(prefix_, cluster_, worker_id);
  const std::string hwm_key = schema::HwmKey(prefix_, cluster_, worker_id);
  etcd::Transaction txn;
  txn.compare.push_back(etcd::Compare::LeaseIs(worker_key, session));
  // A key that does not exist has mod revision 0.
  txn.compare.push_back(etcd::Compare::ModRevisionIs(
      hwm_key, expected.exists ? expected.token : 0));
  txn.success.push_back(etcd::Op::Put(hwm_key, schema::EncodeHwm(unix_millis)));
  txn.failure.push_back(etcd::Op::Get(worker_key));
  txn.failure.push_back(etcd::Op::Get(hwm_key));
  auto result = client_->Txn(txn);
  if (!result.ok()) return result.status();
  lp::CasResult cas;
  if (result->succeeded) {
    cas.applied = true;
    cas.version = lp::Version{true, result->revision};
    return cas;
  }
  cas.claim_held = result->results.size() == 2 &&
                   !result->results[0].kvs.empty() &&
                   result->results[0].kvs[0].lease == session;
  if (!cas.claim_held) {
    cas.reason =
        absl::StrCat(worker_key, " is no longer held by this node's lease ",
                     session, " (expired, revoked, deleted or taken)");
    return cas;
  }
  cas.current = DecodeMark(worker_id, result->results[1].kvs);
  return cas;
}

lp::HistoryEvidence EtcdCoordinator::TakeHistory() {
  lp::HistoryEvidence evidence;
  evidence.went_back = guard_->OtherCluster();
  // As before the split: suspicion is only taken when there is no definite
  // evidence (which fences at once anyway).
  if (evidence.went_back.empty()) evidence.suspect = guard_->TakeSuspect();
  return evidence;
}

void EtcdCoordinator::ResetHistory() { guard_->Reset(); }

}  // namespace snowflake
