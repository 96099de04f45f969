#include "src/lease/etcd/etcd_lease.h"

#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/lease/etcd/etcd_schema.h"

namespace snowflake {
namespace {

namespace schema = etcd_schema;

int64_t MonotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

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

}  // namespace

// The HWM of one worker ID in etcd. Raising it is a transaction that holds
// only while the worker key is still bound to the lease that claimed it, so
// a node that lost its claim can never move the mark its successor waits
// for.
class EtcdLease::HwmStoreImpl final : public HwmStore {
 public:
  HwmStoreImpl(EtcdLease& owner, int64_t worker_id, int64_t lease_id)
      : owner_(owner),
        worker_key_(schema::WorkerKey(owner.options_.prefix,
                                      owner.options_.cluster, worker_id)),
        hwm_key_(schema::HwmKey(owner.options_.prefix, owner.options_.cluster,
                                worker_id)),
        lease_id_(lease_id) {}

  absl::StatusOr<std::optional<int64_t>> Load() override {
    auto kv = owner_.client_->Get(hwm_key_);
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return std::optional<int64_t>();
    auto mark = schema::DecodeHwm((*kv)->value);
    if (!mark.ok()) {
      return absl::DataLossError(
          absl::StrCat("etcd key ", hwm_key_, ": ", mark.status().message()));
    }
    return std::optional<int64_t>(*mark);
  }

  absl::Status Store(int64_t unix_millis) override {
    etcd::Transaction txn;
    txn.compare.push_back(etcd::Compare::LeaseIs(worker_key_, lease_id_));
    txn.success.push_back(
        etcd::Op::Put(hwm_key_, schema::EncodeHwm(unix_millis)));
    auto result = owner_.client_->Txn(txn);
    if (!result.ok()) return result.status();
    if (!result->succeeded) {
      owner_.MarkLost();
      return absl::FailedPreconditionError(absl::StrCat(
          worker_key_, " is no longer held by this node's lease ", lease_id_,
          " (expired or taken); its high-water mark is left alone"));
    }
    return absl::OkStatus();
  }

  std::string Describe() const override {
    return absl::StrCat("etcd key ", hwm_key_);
  }

 private:
  EtcdLease& owner_;
  const std::string worker_key_;
  const std::string hwm_key_;
  const int64_t lease_id_;
};

int64_t EtcdLease::SafetyMarginMillis(int64_t ttl_seconds) {
  // Covers the gap between sending a keep-alive and etcd applying it, and a
  // difference in clock rates; at least 200 ms.
  return std::max<int64_t>(200, ttl_seconds * 1000 / 10);
}

absl::StatusOr<std::unique_ptr<EtcdLease>> EtcdLease::Create(
    EtcdLeaseOptions options) {
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
  auto client = etcd::EtcdClient::Create(options.client);
  if (!client.ok()) return client.status();
  return std::unique_ptr<EtcdLease>(
      new EtcdLease(std::move(options), *std::move(client)));
}

EtcdLease::EtcdLease(EtcdLeaseOptions options,
                     std::unique_ptr<etcd::EtcdClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

EtcdLease::~EtcdLease() { StopKeepAlive(); }

absl::Status EtcdLease::CheckClusterConfig() {
  const std::string key = schema::ConfigKey(options_.prefix, options_.cluster);
  const std::string want = options_.layout.ToString();
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
  const std::string& have = result->results[0].kvs[0].value;
  if (have == want) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cluster \"", options_.cluster, "\" (etcd key ", key,
      ") was created with layout ", have, ", but this node has layout ", want,
      ". A cluster's layout and epoch are fixed for life: fix --layout, "
      "--epoch or --unit-ms, or use another --cluster"));
}

std::vector<int64_t> EtcdLease::Candidates(
    const std::vector<etcd::KeyValue>& held,
    const std::vector<etcd::KeyValue>& hwms) {
  std::set<int64_t> taken;
  for (const etcd::KeyValue& kv : held) {
    if (auto id = schema::IdOfKey(kv.key)) taken.insert(*id);
  }
  std::map<int64_t, int64_t> mark_of;
  for (const etcd::KeyValue& kv : hwms) {
    auto id = schema::IdOfKey(kv.key);
    auto mark = schema::DecodeHwm(kv.value);
    if (id && mark.ok()) mark_of[*id] = *mark;
  }
  std::vector<std::pair<int64_t, int64_t>> free;  // (HWM, ID)
  for (int64_t id = options_.range_first; id <= options_.range_last; ++id) {
    if (taken.count(id) == 0) {
      auto it = mark_of.find(id);
      free.emplace_back(it == mark_of.end() ? 0 : it->second, id);
    }
  }
  std::sort(free.begin(), free.end());
  std::vector<int64_t> order;
  const std::optional<int64_t> last = ReadIdentity(options_.identity_file);
  for (const auto& [mark, id] : free) {
    if (last && id == *last)
      order.insert(order.begin(), id);
    else
      order.push_back(id);
  }
  return order;
}

absl::StatusOr<int64_t> EtcdLease::Claim(int64_t lease_id) {
  auto held = client_->GetPrefix(
      schema::WorkersPrefix(options_.prefix, options_.cluster));
  if (!held.ok()) return held.status();
  auto hwms =
      client_->GetPrefix(schema::HwmPrefix(options_.prefix, options_.cluster));
  if (!hwms.ok()) return hwms.status();

  for (int64_t id : Candidates(*held, *hwms)) {
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
    if (result->succeeded) return id;
    // A retried attempt may report our own earlier success as a conflict.
    if (!result->results.empty() && !result->results[0].kvs.empty() &&
        result->results[0].kvs[0].lease == lease_id) {
      return id;
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
      absl::StrJoin(holders, ", "), "); widen --worker-range, or stop a node"));
}

absl::StatusOr<LeaseGrant> EtcdLease::Acquire() {
  StopKeepAlive();
  // A lease left from a previous grant (lost, or fenced off while etcd was
  // unreachable) goes first, so its keys cannot block the claim.
  if (const int64_t old = lease_id_.exchange(0); old != 0) {
    (void)client_->LeaseRevoke(old);
  }
  worker_id_.store(-1);
  deadline_micros_.store(0);
  lost_.store(false);

  absl::Status config = CheckClusterConfig();
  coordinator_up_.store(config.code() != absl::StatusCode::kUnavailable &&
                        config.code() != absl::StatusCode::kDeadlineExceeded);
  if (!config.ok()) return config;

  const int64_t sent = MonotonicMicros();
  auto lease = client_->LeaseGrant(options_.ttl_seconds);
  if (!lease.ok()) return lease.status();
  SetDeadline(sent, lease->ttl_seconds);

  auto id = Claim(lease->id);
  if (!id.ok()) {
    (void)client_->LeaseRevoke(lease->id);
    deadline_micros_.store(0);
    return id.status();
  }
  lease_id_.store(lease->id);
  worker_id_.store(*id);
  SaveIdentity(*id);

  auto store = std::make_unique<HwmStoreImpl>(*this, *id, lease->id);
  HwmStore* grant_store = store.get();
  {
    MutexLock lock(&mu_);
    if (store_) retired_stores_.push_back(std::move(store_));
    store_ = std::move(store);
    stop_keep_alive_ = false;
  }
  keep_alive_ = std::thread(
      [this, id = lease->id, ttl = lease->ttl_seconds] { KeepAlive(id, ttl); });
  acquisitions_.fetch_add(1, std::memory_order_relaxed);
  return LeaseGrant{*id, grant_store};
}

void EtcdLease::SetDeadline(int64_t monotonic_micros_sent,
                            int64_t ttl_seconds) {
  const int64_t deadline = monotonic_micros_sent + ttl_seconds * 1'000'000 -
                           SafetyMarginMillis(ttl_seconds) * 1000;
  // Keep-alives are sent one at a time, so a later one never lowers it.
  deadline_micros_.store(deadline, std::memory_order_release);
}

void EtcdLease::KeepAlive(int64_t lease_id, int64_t ttl_seconds) {
  const auto period =
      std::chrono::milliseconds(std::max<int64_t>(ttl_seconds * 1000 / 3, 100));
  // After a failure, try again soon: an etcd election takes a second or two,
  // and waiting a whole period after a failed attempt could let the fencing
  // deadline pass although etcd was back in time.
  constexpr auto kRetry = std::chrono::milliseconds(150);
  bool failed = false;
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (!stop_keep_alive_) wake_.WaitFor(&mu_, failed ? kRetry : period);
      if (stop_keep_alive_) return;
    }
    const int64_t sent = MonotonicMicros();
    auto ttl = client_->LeaseKeepAliveOnce(lease_id);
    failed = !ttl.ok();
    if (!ttl.ok()) {
      renew_failures_.fetch_add(1, std::memory_order_relaxed);
      coordinator_up_.store(false);
      continue;  // Valid() turns false by itself at the deadline.
    }
    coordinator_up_.store(true);
    if (*ttl <= 0) {
      // etcd no longer knows the lease: the ID may already be someone
      // else's. Stop for good; the daemon acquires again.
      MarkLost();
      return;
    }
    SetDeadline(sent, *ttl);
  }
}

void EtcdLease::StopKeepAlive() {
  {
    MutexLock lock(&mu_);
    stop_keep_alive_ = true;
    wake_.SignalAll();
  }
  if (keep_alive_.joinable()) keep_alive_.join();
}

bool EtcdLease::Valid() const {
  return !lost_.load(std::memory_order_acquire) &&
         MonotonicMicros() < deadline_micros_.load(std::memory_order_acquire);
}

bool EtcdLease::Lost() const { return lost_.load(std::memory_order_acquire); }

absl::Status EtcdLease::Release() {
  StopKeepAlive();
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
  info.held = Valid();
  info.worker_id = worker_id_.load();
  info.hwm_store =
      info.worker_id < 0
          ? ""
          : absl::StrCat("etcd key ",
                         schema::HwmKey(options_.prefix, options_.cluster,
                                        info.worker_id));
  const int64_t left =
      deadline_micros_.load(std::memory_order_acquire) - MonotonicMicros();
  info.expires_in_millis = std::max<int64_t>(left / 1000, 0);
  info.coordinator_up = coordinator_up_.load();
  info.renew_failures = renew_failures_.load();
  info.acquire_conflicts = acquire_conflicts_.load();
  info.acquisitions = acquisitions_.load();
  return info;
}

void EtcdLease::SaveIdentity(int64_t worker_id) {
  if (options_.identity_file.empty()) return;
  std::error_code ec;
  const std::filesystem::path path(options_.identity_file);
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  const std::string tmp = options_.identity_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# The worker ID this node held last; it prefers it when free.\n"
        << "worker_id=" << worker_id << "\ncluster=" << options_.cluster
        << "\n";
    if (!out) return;  // Only a preference: never fatal.
  }
  std::filesystem::rename(tmp, options_.identity_file, ec);
}

}  // namespace snowflake
