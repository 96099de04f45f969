#include "src/lease/etcd/etcd_lease.h"

#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/lease/etcd/etcd_schema.h"
#include "src/lease/protocol/candidates.h"
#include "src/lease/protocol/timing.h"
#include "src/lease/static_lease.h"

namespace snowflake {
namespace {

namespace schema = etcd_schema;

int64_t WallMillis() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::optional<int64_t> ReadIdentity(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view kKey = "worker_id=";
    if (line.rfind(kKey, 0) == 0) {
      return schema::IdOfKey(line.substr(kKey.size()));
    }
  }
  return std::nullopt;
}

// The local floors in `state_dir`, by worker ID (Unix ms).
std::map<int64_t, int64_t> ReadFloors(const std::string& state_dir,
                                      int64_t first, int64_t last) {
  std::map<int64_t, int64_t> floors;
  if (state_dir.empty()) return floors;
  for (int64_t id = first; id <= last; ++id) {
    const std::string path = StaticHwmPath(state_dir, id);
    if (!std::filesystem::exists(path)) continue;
    auto store = FileHwmStore::Open(path);
    if (!store.ok()) continue;
    auto mark = (*store)->Load();
    // An unreadable floor counts as far in the future: that ID is tried
    // last, and its Load fails loudly if it is ever claimed.
    floors[id] = mark.ok() ? mark->value_or(0) : INT64_MAX / 2;
  }
  return floors;
}

}  // namespace

// Watches every response header: etcd's revision only grows and its
// cluster ID never changes, unless it was restored from an older snapshot
// (or the endpoints now reach another cluster). A lower revision may also
// come from a member that lags; the keep-alive thread then checks with a
// linearizable read before it calls the claim lost.
class EtcdLease::RevisionGuard {
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

int64_t EtcdLease::SafetyMarginMillis(int64_t ttl_seconds) {
  return lease_protocol::SafetyMarginMillis(ttl_seconds * 1000);
}

int64_t EtcdLease::TakeoverWaitMillis(int64_t ttl_seconds,
                                      int64_t max_clock_skew_millis) {
  return lease_protocol::TakeoverWaitMillis(ttl_seconds * 1000,
                                            max_clock_skew_millis);
}

absl::StatusOr<std::unique_ptr<EtcdLease>> EtcdLease::Create(
    EtcdLeaseOptions options, LeaseClock& clock) {
  if (options.range_first < 0 || options.range_last < options.range_first ||
      options.range_last > options.layout.max_worker()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker range ", options.range_first, "-", options.range_last,
        " must lie within 0-", options.layout.max_worker(),
        " (the layout's worker bits)"));
  }
  if (options.ttl_seconds < 1 || options.ttl_seconds > 3600) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease TTL must be 1 to 3600 s, got ", options.ttl_seconds));
  }
  if (options.node_name.empty()) {
    return absl::InvalidArgumentError("node name must not be empty");
  }
  // Every call must end well inside one keep-alive period.
  const auto per_call = std::chrono::milliseconds(
      std::clamp<int64_t>(options.ttl_seconds * 1000 / 6, 200, 2000));
  options.client.timeout = per_call;
  options.client.dial_timeout = per_call;
  auto guard = std::make_shared<RevisionGuard>();
  options.client.on_header = [guard](const etcd::ResponseHeader& header) {
    guard->Observe(header);
  };
  auto client = etcd::EtcdClient::Create(options.client);
  if (!client.ok()) return client.status();
  return std::unique_ptr<EtcdLease>(new EtcdLease(
      std::move(options), *std::move(client), std::move(guard), clock));
}

EtcdLease::EtcdLease(EtcdLeaseOptions options,
                     std::unique_ptr<etcd::EtcdClient> client,
                     std::shared_ptr<RevisionGuard> guard, LeaseClock& clock)
    : options_(std::move(options)),
      client_(std::move(client)),
      guard_(std::move(guard)),
      clock_(clock) {}

EtcdLease::~EtcdLease() { StopWorkers(); }

absl::Status EtcdLease::CheckClusterConfig() {
  const std::string key = schema::ConfigKey(options_.prefix, options_.cluster);
  const std::string want =
      schema::EncodeClusterConfig(options_.layout, options_.regions);
  etcd::Transaction txn;
  txn.compare.push_back(etcd::Compare::Absent(key));
  txn.success.push_back(etcd::Op::Put(key, want));
  txn.failure.push_back(etcd::Op::Get(key));
  auto result = client_->Txn(txn);
  if (!result.ok()) return result.status();
  if (result->succeeded) return absl::OkStatus();
  if (result->results.empty() || result->results[0].kvs.empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd key ", key, " vanished while being read; retry"));
  }
  const std::string& have_text = result->results[0].kvs[0].value;
  if (have_text == want) return absl::OkStatus();
  auto have = schema::DecodeClusterConfig(have_text);
  if (!have.ok()) return have.status();
  const std::string layout = options_.layout.ToString();
  if (have->layout != layout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster \"", options_.cluster, "\" (etcd key ", key,
        ") was created with layout ", have->layout,
        ", but this node has layout ", layout,
        ". A cluster's layout and epoch are fixed for life: fix --layout, "
        "--epoch or --unit-ms, or use another --cluster"));
  }
  const std::string regions = options_.regions.ToString();
  if (have->regions != regions) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster \"", options_.cluster, "\" (etcd key ", key,
                     ") was created with region map \"",
                     have->regions.empty() ? "none" : have->regions,
                     "\", but this node has region map \"",
                     regions.empty() ? "none" : regions,
                     "\". Every node of a cluster must carry the same map: fix "
                     "[regions] / --regions"));
  }
  return absl::OkStatus();
}

// Gathers what lease_protocol::OrderCandidates ranks: the claims and
// stored marks etcd holds, the local floors and the identity file.
std::vector<lease_protocol::Candidate> EtcdLease::Candidates(
    const std::vector<etcd::KeyValue>& held,
    const std::vector<etcd::KeyValue>& hwms) {
  lease_protocol::CandidateInput input;
  input.range_first = options_.range_first;
  input.range_last = options_.range_last;
  for (const etcd::KeyValue& kv : held) {
    if (auto id = schema::IdOfKey(kv.key)) input.taken.insert(*id);
  }
  input.marks =
      ReadFloors(options_.state_dir, options_.range_first, options_.range_last);
  for (const etcd::KeyValue& kv : hwms) {
    auto id = schema::IdOfKey(kv.key);
    auto mark = schema::DecodeHwm(kv.value);
    if (!id || !mark.ok()) continue;
    input.marks[*id] = std::max(input.marks[*id], *mark);
  }
  input.last = ReadIdentity(IdentityFile());
  input.now_unix_millis = WallMillis();
  input.takeover_wait_millis =
      TakeoverWaitMillis(options_.ttl_seconds, options_.max_clock_skew_millis);
  return lease_protocol::OrderCandidates(input);
}

absl::StatusOr<EtcdLease::Claimed> EtcdLease::Claim(int64_t lease_id) {
  auto held = client_->GetPrefix(
      schema::WorkersPrefix(options_.prefix, options_.cluster));
  if (!held.ok()) return held.status();
  auto hwms =
      client_->GetPrefix(schema::HwmPrefix(options_.prefix, options_.cluster));
  if (!hwms.ok()) return hwms.status();

  for (const auto& [id, history] : Candidates(*held, *hwms)) {
    schema::Holder holder;
    holder.node = options_.node_name;
    holder.worker_id = id;
    holder.addresses = options_.addresses;
    holder.region = options_.region;
    holder.start_unix_millis = WallMillis();
    holder.lease = lease_id;
    const std::string value = schema::EncodeHolder(holder);
    const std::string key =
        schema::WorkerKey(options_.prefix, options_.cluster, id);
    etcd::Transaction txn;
    txn.compare.push_back(etcd::Compare::Absent(key));
    txn.success.push_back(etcd::Op::Put(key, value, lease_id));
    txn.success.push_back(etcd::Op::Put(
        schema::NodeKey(options_.prefix, options_.cluster, options_.node_name),
        value, lease_id));
    txn.failure.push_back(etcd::Op::Get(key));
    auto result = client_->Txn(txn);
    if (!result.ok()) return result.status();
    if (result->succeeded) return Claimed{id, result->revision, history};
    // A retried attempt may report our own earlier success as a conflict.
    if (!result->results.empty() && !result->results[0].kvs.empty() &&
        result->results[0].kvs[0].lease == lease_id) {
      return Claimed{id, result->results[0].kvs[0].mod_revision, history};
    }
    acquire_conflicts_.fetch_add(1, std::memory_order_relaxed);
  }

  std::vector<std::string> holders;
  for (const etcd::KeyValue& kv : *held) {
    auto id = schema::IdOfKey(kv.key);
    if (!id || *id < options_.range_first || *id > options_.range_last) {
      continue;
    }
    auto holder = schema::DecodeHolder(kv.value);
    holders.push_back(absl::StrCat(
        *id, " by ", holder.ok() ? holder->node : std::string("?")));
  }
  const int64_t size = options_.range_last - options_.range_first + 1;
  return absl::ResourceExhaustedError(absl::StrCat(
      "no free worker ID in range ", options_.range_first, "-",
      options_.range_last, " of cluster \"", options_.cluster,
      "\": ", holders.size(), " of ", size, " held (",
      absl::StrJoin(holders, ", "), "); widen the range, or stop a node"));
}

absl::StatusOr<LeaseGrant> EtcdLease::Acquire() {
  StopWorkers();
  // A lease left from a previous grant (lost, or never confirmed) goes
  // first, so its keys cannot block the claim.
  if (const int64_t old = lease_id_.exchange(0); old != 0) {
    (void)client_->LeaseRevoke(old);
  }
  worker_id_.store(-1);
  deadline_micros_.store(0);
  issue_from_micros_.store(kNever);
  lost_.store(false);
  recheck_.store(false);
  {
    MutexLock lock(&mu_);
    lost_reason_.clear();
  }
  // A fresh claim in the etcd as it is now: forget the revisions of the
  // one we fenced on (after a restore they are above etcd's forever).
  guard_->Reset();

  absl::Status config = CheckClusterConfig();
  coordinator_up_.store(config.code() != absl::StatusCode::kUnavailable &&
                        config.code() != absl::StatusCode::kDeadlineExceeded);
  if (!config.ok()) return config;

  const int64_t sent = clock_.NowMicros();
  auto lease = client_->LeaseGrant(options_.ttl_seconds);
  if (!lease.ok()) return lease.status();
  SetDeadline(sent, lease->ttl_seconds);

  auto claimed = Claim(lease->id);
  if (!claimed.ok()) {
    (void)client_->LeaseRevoke(lease->id);
    deadline_micros_.store(0);
    return claimed.status();
  }
  // A holder whose claim vanished learns it within a keep-alive interval
  // of it vanishing, which was before this claim.
  const int64_t claimed_at = clock_.NowMicros();
  const int64_t id = claimed->worker_id;
  lease_id_.store(lease->id);
  worker_id_.store(id);
  const std::optional<int64_t> identity = ReadIdentity(IdentityFile());
  SaveIdentity(id);

  // From here on, a deleted or re-bound claim key is noticed within
  // milliseconds; events since the claim's revision are not missed.
  auto watch = client_->Watch(
      schema::WorkerKey(options_.prefix, options_.cluster, id),
      claimed->revision + 1,
      [this, lease_id = lease->id](const etcd::WatchEvent& event) {
        OnWatchEvent(event, lease_id);
      });
  if (!watch.ok()) {
    (void)client_->LeaseRevoke(lease->id);
    lease_id_.store(0);
    return watch.status();
  }
  watch_ = *std::move(watch);

  auto store = std::make_unique<EtcdHwmStore>(
      *client_, schema::WorkerKey(options_.prefix, options_.cluster, id),
      schema::HwmKey(options_.prefix, options_.cluster, id), lease->id,
      [this](const std::string& reason) { MarkLost(reason); });
  const int64_t previous_revision = store_ != nullptr && last_worker_id_ == id
                                        ? store_->known_revision()
                                        : -1;
  auto mark = store->Load();
  if (!mark.ok()) return mark.status();
  LeaseGrant grant;
  grant.worker_id = id;
  grant.coordinator_store = store.get();
  grant.own_mark = previous_revision == store->known_revision();
  const bool own_last = identity && *identity == id;
  grant.takeover_wait_millis = lease_protocol::TakeoverWaitForClaim(
      claimed->history, own_last, grant.own_mark, lease->ttl_seconds * 1000,
      options_.max_clock_skew_millis);
  const int64_t issue_from =
      grant.takeover_wait_millis > 0
          ? claimed_at + grant.takeover_wait_millis * 1000
          : 0;
  std::unique_ptr<FlooredHwmStore> floored;
  if (!options_.state_dir.empty()) {
    auto local = FileHwmStore::Open(StaticHwmPath(options_.state_dir, id));
    if (!local.ok()) return local.status();
    floored = std::make_unique<FlooredHwmStore>(*std::move(local), *store);
  }
  grant.hwm_store = floored ? static_cast<HwmStore*>(floored.get())
                            : static_cast<HwmStore*>(store.get());
  {
    MutexLock lock(&mu_);
    if (store_) retired_stores_.push_back(std::move(store_));
    if (floored_) retired_stores_.push_back(std::move(floored_));
    store_ = std::move(store);
    floored_ = std::move(floored);
    issue_from_micros_.store(issue_from, std::memory_order_release);
    stop_keep_alive_ = false;
  }
  last_worker_id_ = id;
  keep_alive_ =
      std::thread([this, lease_id = lease->id, ttl = lease->ttl_seconds] {
        KeepAlive(lease_id, ttl);
      });
  acquisitions_.fetch_add(1, std::memory_order_relaxed);
  return grant;
}

void EtcdLease::SetDeadline(int64_t sent_micros, int64_t ttl_seconds) {
  const int64_t deadline =
      lease_protocol::FencingDeadlineMicros(sent_micros, ttl_seconds * 1000);
  // Keep-alives are sent one at a time, so a later one never lowers it.
  deadline_micros_.store(deadline, std::memory_order_release);
}

void EtcdLease::OnWatchEvent(const etcd::WatchEvent& event, int64_t lease_id) {
  switch (event.type) {
    case etcd::WatchEvent::Type::kDelete:
      MarkLost(absl::StrCat(
          "claim key ", event.kv.key,
          " was deleted (lease revoked or expired, or deleted by hand)"));
      break;
    case etcd::WatchEvent::Type::kPut:
      if (event.kv.lease != lease_id) {
        MarkLost(absl::StrCat("claim key ", event.kv.key,
                              " is now bound to another lease (",
                              event.kv.lease, ")"));
      }
      break;
    case etcd::WatchEvent::Type::kCompacted:
      recheck_.store(true);  // Events were missed: read the claim again.
      break;
    case etcd::WatchEvent::Type::kBroken:
      break;  // Unreachable is not lost; the watch resumes by itself.
  }
}

void EtcdLease::VerifyClaim(int64_t lease_id) {
  const int64_t seen = guard_->max_revision();
  const std::string key =
      schema::WorkerKey(options_.prefix, options_.cluster, worker_id_.load());
  etcd::Transaction txn;  // No compare: a linearizable read of the claim.
  txn.success.push_back(etcd::Op::Get(key));
  auto result = client_->Txn(txn);
  if (!result.ok()) {
    recheck_.store(true);  // Try again on the next round.
    return;
  }
  if (result->revision < seen) {
    MarkLost(absl::StrCat(
        "etcd's revision went back from ", seen, " to ", result->revision,
        ": it was restored from an older snapshot; claims made since then "
        "are gone"));
    return;
  }
  if (result->results.empty() || result->results[0].kvs.empty() ||
      result->results[0].kvs[0].lease != lease_id) {
    MarkLost(absl::StrCat("claim key ", key, " is gone or re-bound"));
  }
}

void EtcdLease::KeepAlive(int64_t lease_id, int64_t ttl_seconds) {
  const int64_t period_micros =
      lease_protocol::KeepAlivePeriodMillis(ttl_seconds * 1000) * 1000;
  // After a failure, try again soon: an etcd election takes a second or
  // two, and a restarted member should be seen at once.
  constexpr int64_t kRetryMicros = 150'000;
  // How often the guard's and the watch's requests are looked at.
  constexpr int64_t kPollMicros = 50'000;
  int64_t next_renew = clock_.NowMicros() + period_micros;
  for (;;) {
    {
      MutexLock lock(&mu_);
      // Never past the next renewal: once a wait on clock_ has begun,
      // everything due by then has been done (tests rely on it).
      if (!stop_keep_alive_) {
        clock_.WaitUntil(
            &mu_, &wake_,
            std::min(next_renew, clock_.NowMicros() + kPollMicros));
      }
      if (stop_keep_alive_) return;
    }
    if (lost_.load()) return;  // The daemon acquires again.
    if (std::string other = guard_->OtherCluster(); !other.empty()) {
      MarkLost(other);
      return;
    }
    if (guard_->TakeSuspect() || recheck_.exchange(false)) {
      VerifyClaim(lease_id);
      continue;
    }
    const int64_t sent = clock_.NowMicros();
    if (sent < next_renew) continue;
    auto ttl = client_->LeaseKeepAliveOnce(lease_id);
    if (!ttl.ok()) {
      renew_failures_.fetch_add(1, std::memory_order_relaxed);
      coordinator_up_.store(false);
      next_renew = clock_.NowMicros() + kRetryMicros;
      continue;  // Unreachable is not lost: issuing goes on below the HWM.
    }
    coordinator_up_.store(true);
    if (*ttl <= 0) {
      MarkLost("etcd says the lease has expired or was revoked");
      return;
    }
    SetDeadline(sent, *ttl);
    next_renew = sent + period_micros;
  }
}

void EtcdLease::StopWorkers() {
  watch_.reset();  // Cancels and joins the watch.
  {
    MutexLock lock(&mu_);
    stop_keep_alive_ = true;
    wake_.SignalAll();
  }
  if (keep_alive_.joinable()) keep_alive_.join();
}

void EtcdLease::MarkLost(const std::string& reason) {
  {
    MutexLock lock(&mu_);
    if (lost_reason_.empty()) lost_reason_ = reason;
    if (!lost_.exchange(true, std::memory_order_acq_rel)) {
      claims_lost_.fetch_add(1, std::memory_order_relaxed);
    }
    wake_.SignalAll();  // A takeover wait ends; so does the keep-alive.
  }
}

bool EtcdLease::Valid() const {
  if (lease_id_.load(std::memory_order_acquire) == 0 ||
      lost_.load(std::memory_order_acquire)) {
    return false;
  }
  int64_t from = issue_from_micros_.load(std::memory_order_acquire);
  if (from == 0) return true;
  if (clock_.NowMicros() < from) return false;
  // Passed for good: later calls skip the clock. An Acquire that set a new
  // value meanwhile keeps it.
  issue_from_micros_.compare_exchange_strong(from, 0);
  return true;
}

bool EtcdLease::AwaitTakeover() {
  MutexLock lock(&mu_);
  for (;;) {
    // stop_keep_alive_ is false from a successful Acquire to the next
    // Release or Acquire.
    if (stop_keep_alive_ || lost_.load()) return false;
    const int64_t from = issue_from_micros_.load(std::memory_order_acquire);
    if (from == 0 || clock_.NowMicros() >= from) return true;
    clock_.WaitUntil(&mu_, &wake_, from);
  }
}

bool EtcdLease::Lost() const { return lost_.load(std::memory_order_acquire); }

absl::Status EtcdLease::Release() {
  StopWorkers();
  deadline_micros_.store(0);
  const int64_t lease = lease_id_.exchange(0);
  if (lease == 0) return absl::OkStatus();
  absl::Status status = client_->LeaseRevoke(lease);
  if (status.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return status;
}

LeaseInfo EtcdLease::Info() const {
  LeaseInfo info;
  info.mode = "etcd";
  // Held during a takeover wait too: acquired, neither released nor lost.
  info.held = lease_id_.load(std::memory_order_acquire) != 0 &&
              !lost_.load(std::memory_order_acquire);
  info.worker_id = worker_id_.load();
  info.hwm_store =
      info.worker_id < 0
          ? ""
          : absl::StrCat("etcd key ",
                         schema::HwmKey(options_.prefix, options_.cluster,
                                        info.worker_id),
                         options_.state_dir.empty()
                             ? ""
                             : absl::StrCat(" (local floor ",
                                            StaticHwmPath(options_.state_dir,
                                                          info.worker_id),
                                            ")"));
  const lease_protocol::DeadlineView deadline = lease_protocol::ViewDeadline(
      deadline_micros_.load(std::memory_order_acquire), clock_.NowMicros(),
      info.held);
  info.expires_in_millis = deadline.expires_in_millis;
  info.presumed_expired = deadline.presumed_expired;
  info.coordinator_up = coordinator_up_.load();
  info.renew_failures = renew_failures_.load();
  info.acquire_conflicts = acquire_conflicts_.load();
  info.acquisitions = acquisitions_.load();
  info.claims_lost = claims_lost_.load();
  {
    MutexLock lock(&mu_);
    if (lost_.load()) info.lost_reason = lost_reason_;
  }
  return info;
}

std::string EtcdLease::IdentityFile() const {
  if (options_.state_dir.empty()) return "";
  return options_.state_dir + "/identity-" + options_.cluster;
}

void EtcdLease::SaveIdentity(int64_t worker_id) {
  const std::string file = IdentityFile();
  if (file.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# The worker ID this node held last; it prefers it when free.\n"
        << "worker_id=" << worker_id << "\ncluster=" << options_.cluster
        << "\n";
    if (!out) return;  // Only a preference: never fatal.
  }
  std::filesystem::rename(tmp, file, ec);
}

}  // namespace snowflake
