#include "src/lease/protocol/coordinated_lease.h"

#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/base/strings.h"
#include "src/lease/protocol/timing.h"
#include "src/lease/static_lease.h"

namespace snowflake::lease_protocol {
namespace {

int64_t WallMillis() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The worker ID of an identity file's "worker_id=" value: the decimal after
// its last '/', as cluster_schema::IdOfKey reads a key.
std::optional<int64_t> ParseId(const std::string& text) {
  const size_t slash = text.rfind('/');
  int64_t id = 0;
  if (!base::ParseInt(slash == std::string::npos
                          ? std::string_view(text)
                          : std::string_view(text).substr(slash + 1),
                      id) ||
      id < 0) {
    return std::nullopt;
  }
  return id;
}

std::optional<int64_t> ReadIdentity(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view kKey = "worker_id=";
    if (line.rfind(kKey, 0) == 0) return ParseId(line.substr(kKey.size()));
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

CoordinatedLease::CoordinatedLease(CoordinatedLeaseOptions options,
                                   Coordinator& coordinator, LeaseClock& clock)
    : options_(std::move(options)), coordinator_(coordinator), clock_(clock) {}

CoordinatedLease::~CoordinatedLease() { StopWorkers(); }

absl::Status CoordinatedLease::CheckClusterConfig() {
  auto stored = coordinator_.CreateOrReadConfig(options_.config);
  if (!stored.ok()) return stored.status();
  if (*stored == options_.config) return absl::OkStatus();
  if (!options_.check_config) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster \"", options_.cluster, "\" was created with config \"",
        *stored, "\", but this node has \"", options_.config, "\""));
  }
  return options_.check_config(*stored);
}

// Gathers what OrderCandidates ranks: the claims and stored marks on the
// coordinator, the local floors and the identity file.
std::vector<Candidate> CoordinatedLease::Candidates(
    const std::vector<ClaimEntry>& claims,
    const std::vector<MarkEntry>& marks) {
  CandidateInput input;
  input.range_first = options_.range_first;
  input.range_last = options_.range_last;
  for (const ClaimEntry& claim : claims) input.taken.insert(claim.worker_id);
  input.marks =
      ReadFloors(options_.state_dir, options_.range_first, options_.range_last);
  for (const MarkEntry& mark : marks) {
    input.marks[mark.worker_id] =
        std::max(input.marks[mark.worker_id], mark.unix_millis);
  }
  input.last = ReadIdentity(IdentityFile());
  input.now_unix_millis = WallMillis();
  input.takeover_wait_millis = TakeoverWaitMillis(
      options_.ttl_seconds * 1000, options_.max_clock_skew_millis);
  return OrderCandidates(input);
}

absl::StatusOr<CoordinatedLease::Claimed> CoordinatedLease::Claim(
    int64_t session) {
  auto claims = coordinator_.ListClaims();
  if (!claims.ok()) return claims.status();
  auto marks = coordinator_.ListMarks();
  if (!marks.ok()) return marks.status();

  const int64_t free = FreeInRange(*claims);
  for (const auto& [id, history] : Candidates(*claims, *marks)) {
    HolderInfo holder = options_.holder;
    holder.start_unix_millis = WallMillis();
    auto result = coordinator_.CreateClaim(id, holder, session);
    if (!result.ok()) return result.status();
    if (result->won) {
      range_free_.store(std::max<int64_t>(free - 1, 0));
      return Claimed{id, result->position, history};
    }
    acquire_conflicts_.fetch_add(1, std::memory_order_relaxed);
  }
  range_free_.store(0);

  std::vector<std::string> holders;
  for (const ClaimEntry& claim : *claims) {
    if (claim.worker_id < options_.range_first ||
        claim.worker_id > options_.range_last) {
      continue;
    }
    holders.push_back(absl::StrCat(claim.worker_id, " by ", claim.node));
  }
  const int64_t size = options_.range_last - options_.range_first + 1;
  return absl::ResourceExhaustedError(absl::StrCat(
      "no free worker ID in range ", options_.range_first, "-",
      options_.range_last, " of cluster \"", options_.cluster,
      "\": ", holders.size(), " of ", size, " held (",
      absl::StrJoin(holders, ", "), "); widen the range, or stop a node"));
}

int64_t CoordinatedLease::FreeInRange(
    const std::vector<ClaimEntry>& claims) const {
  std::set<int64_t> held;
  for (const ClaimEntry& claim : claims) {
    if (claim.worker_id >= options_.range_first &&
        claim.worker_id <= options_.range_last) {
      held.insert(claim.worker_id);
    }
  }
  return options_.range_last - options_.range_first + 1 -
         static_cast<int64_t>(held.size());
}

absl::StatusOr<LeaseGrant> CoordinatedLease::Acquire() {
  StopWorkers();
  // A session left from a previous grant (lost, or never confirmed) goes
  // first, so its claims cannot block the claim.
  if (const int64_t old = session_.exchange(0); old != 0) {
    (void)coordinator_.CloseSession(old);
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
  // A fresh claim in the coordinator as it is now: forget the history of
  // the one we fenced on (after a restore it is ahead of it forever).
  coordinator_.ResetHistory();

  absl::Status config = CheckClusterConfig();
  coordinator_up_.store(config.code() != absl::StatusCode::kUnavailable &&
                        config.code() != absl::StatusCode::kDeadlineExceeded);
  if (!config.ok()) return config;

  auto session = coordinator_.OpenSession(options_.ttl_seconds);
  if (!session.ok()) return session.status();
  SetDeadline(session->confirmed_micros, session->ttl_millis);

  auto claimed = Claim(session->id);
  if (!claimed.ok()) {
    (void)coordinator_.CloseSession(session->id);
    deadline_micros_.store(0);
    return claimed.status();
  }
  // A holder whose claim vanished learns it within a keep-alive interval
  // of it vanishing, which was before this claim.
  const int64_t claimed_at = clock_.NowMicros();
  const int64_t id = claimed->worker_id;
  session_.store(session->id);
  worker_id_.store(id);
  const std::optional<int64_t> identity = ReadIdentity(IdentityFile());
  SaveIdentity(id);

  // From here on, a deleted or re-bound claim is noticed within
  // milliseconds; events since the claim are not missed.
  auto watch = coordinator_.WatchClaim(
      id, session->id, claimed->position,
      [this](const ClaimEvent& event) { OnClaimEvent(event); });
  if (!watch.ok()) {
    (void)coordinator_.CloseSession(session->id);
    session_.store(0);
    return watch.status();
  }
  watch_ = *std::move(watch);

  auto store = std::make_unique<CoordinatorHwmStore>(
      coordinator_, id, session->id,
      [this](const std::string& reason) { MarkLost(reason); });
  std::optional<Version> previous;
  if (store_ != nullptr && last_worker_id_ == id) {
    previous = store_->known_version();
  }
  auto mark = store->Load();
  if (!mark.ok()) return mark.status();
  LeaseGrant grant;
  grant.worker_id = id;
  grant.coordinator_store = store.get();
  grant.own_mark = previous.has_value() && *previous == store->known_version();
  grant.takeover_wait_millis = TakeoverWaitForClaim(
      claimed->history, identity && *identity == id, grant.own_mark,
      session->ttl_millis, options_.max_clock_skew_millis);
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
      std::thread([this, session_id = session->id, ttl = session->ttl_millis] {
        KeepAlive(session_id, ttl);
      });
  acquisitions_.fetch_add(1, std::memory_order_relaxed);
  return grant;
}

void CoordinatedLease::SetDeadline(int64_t confirmed_micros,
                                   int64_t ttl_millis) {
  ttl_millis_.store(ttl_millis);
  // Keep-alives are sent one at a time, so a later one never lowers it.
  deadline_micros_.store(FencingDeadlineMicros(confirmed_micros, ttl_millis),
                         std::memory_order_release);
}

void CoordinatedLease::OnClaimEvent(const ClaimEvent& event) {
  switch (event.type) {
    case ClaimEvent::Type::kLost:
      MarkLost(event.reason);
      break;
    case ClaimEvent::Type::kMissed: {
      // Events were missed: read the claim again, now rather than at the
      // next poll.
      recheck_.store(true);
      MutexLock lock(&mu_);
      wake_.SignalAll();
      break;
    }
    case ClaimEvent::Type::kBroken:
      break;  // Unreachable is not lost; the watch resumes by itself.
  }
}

void CoordinatedLease::VerifyClaim(int64_t session) {
  auto check = coordinator_.VerifyClaim(worker_id_.load(), session);
  if (!check.ok()) {
    recheck_.store(true);  // Try again on the next round.
    return;
  }
  if (!check->held) MarkLost(check->reason);
}

void CoordinatedLease::KeepAlive(int64_t session, int64_t ttl_millis) {
  const int64_t period_micros = KeepAlivePeriodMillis(ttl_millis) * 1000;
  // After a failure, try again soon: an election takes a second or two,
  // and a restarted member should be seen at once.
  constexpr int64_t kRetryMicros = 150'000;
  // How often the history's and the watch's requests are looked at.
  constexpr int64_t kPollMicros = 50'000;
  // How often the claims are listed for the free-ID count: at most every
  // keep-alive, and never more often than this.
  constexpr int64_t kCensusMicros = 10'000'000;
  int64_t next_renew = clock_.NowMicros() + period_micros;
  int64_t next_census = clock_.NowMicros() + kCensusMicros;
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
    const HistoryEvidence history = coordinator_.TakeHistory();
    if (!history.went_back.empty()) {
      MarkLost(history.went_back);
      return;
    }
    if (history.suspect || recheck_.exchange(false)) {
      VerifyClaim(session);
      if (lost_.load()) return;
      // A read that failed is tried again at the next poll; keep-alives go
      // on meanwhile (their failures are what says the coordinator is down).
    }
    const int64_t now = clock_.NowMicros();
    if (now < next_renew) continue;
    auto evidence = coordinator_.KeepAlive(session);
    if (!evidence.ok()) {
      renew_failures_.fetch_add(1, std::memory_order_relaxed);
      coordinator_up_.store(false);
      next_renew = clock_.NowMicros() + kRetryMicros;
      continue;  // Unreachable is not lost: issuing goes on below the HWM.
    }
    coordinator_up_.store(true);
    if (!evidence->alive) {
      MarkLost(evidence->reason);
      return;
    }
    SetDeadline(evidence->confirmed_micros, evidence->ttl_millis);
    next_renew = now + period_micros;
    if (now >= next_census) {
      // Only after a renewal, so a slow list never delays one.
      next_census = now + kCensusMicros;
      if (auto claims = coordinator_.ListClaims(); claims.ok()) {
        range_free_.store(FreeInRange(*claims));
      }
    }
  }
}

void CoordinatedLease::StopWorkers() {
  watch_.reset();  // Cancels and joins the watch.
  {
    MutexLock lock(&mu_);
    stop_keep_alive_ = true;
    wake_.SignalAll();
  }
  if (keep_alive_.joinable()) keep_alive_.join();
}

void CoordinatedLease::MarkLost(const std::string& reason) {
  MutexLock lock(&mu_);
  if (lost_reason_.empty()) lost_reason_ = reason;
  if (!lost_.exchange(true, std::memory_order_acq_rel)) {
    claims_lost_.fetch_add(1, std::memory_order_relaxed);
  }
  wake_.SignalAll();  // A takeover wait ends; so does the keep-alive.
}

bool CoordinatedLease::Valid() const {
  if (session_.load(std::memory_order_acquire) == 0 ||
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

bool CoordinatedLease::AwaitTakeover() {
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

bool CoordinatedLease::Lost() const {
  return lost_.load(std::memory_order_acquire);
}

absl::Status CoordinatedLease::Release() {
  StopWorkers();
  deadline_micros_.store(0);
  const int64_t session = session_.exchange(0);
  if (session == 0) return absl::OkStatus();
  absl::Status status = coordinator_.CloseSession(session);
  if (status.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return status;
}

LeaseInfo CoordinatedLease::Info() const {
  LeaseInfo info;
  info.mode = coordinator_.Mode();
  // Held during a takeover wait too: acquired, neither released nor lost.
  info.held = session_.load(std::memory_order_acquire) != 0 &&
              !lost_.load(std::memory_order_acquire);
  info.worker_id = worker_id_.load();
  if (info.worker_id >= 0) {
    info.hwm_store = coordinator_.DescribeMark(info.worker_id);
    if (!options_.state_dir.empty()) {
      absl::StrAppend(&info.hwm_store, " (local floor ",
                      StaticHwmPath(options_.state_dir, info.worker_id), ")");
    }
  }
  const DeadlineView deadline =
      ViewDeadline(deadline_micros_.load(std::memory_order_acquire),
                   clock_.NowMicros(), info.held);
  info.expires_in_millis = deadline.expires_in_millis;
  info.presumed_expired = deadline.presumed_expired;
  info.coordinator_up = coordinator_up_.load();
  info.renew_failures = renew_failures_.load();
  info.acquire_conflicts = acquire_conflicts_.load();
  info.acquisitions = acquisitions_.load();
  info.claims_lost = claims_lost_.load();
  info.ttl_millis = ttl_millis_.load();
  info.range_size = options_.range_last - options_.range_first + 1;
  info.range_free = range_free_.load();
  {
    MutexLock lock(&mu_);
    if (lost_.load()) info.lost_reason = lost_reason_;
  }
  return info;
}

std::string CoordinatedLease::IdentityFile() const {
  if (options_.state_dir.empty()) return "";
  return options_.state_dir + "/identity-" + options_.cluster +
         (options_.slot == 0 ? "" : "." + std::to_string(options_.slot));
}

void CoordinatedLease::SaveIdentity(int64_t worker_id) {
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

}  // namespace snowflake::lease_protocol
