#include "src/lease/zookeeper/zookeeper_coordinator.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/protocol/claim_value.h"

namespace snowflake {

namespace lp = lease_protocol;
namespace schema = cluster_schema;
namespace zk = zookeeper;

namespace {

std::string Hex(int64_t session) {
  return absl::StrCat("0x", absl::Hex(static_cast<uint64_t>(session)));
}

// The chroot of a connection string ("h:1,h:2/app" -> "/app"), or "".
std::string ChrootOf(const std::string& hosts) {
  const size_t slash = hosts.find('/');
  return slash == std::string::npos ? "" : hosts.substr(slash);
}

// A key prefix of cluster_schema ("/snowflake/c/workers/") as a znode path.
std::string Znode(std::string prefix) {
  if (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

// Why a claim read back is not `session`'s, or "" when it is.
std::string ClaimNotHeld(const std::string& described,
                         const std::optional<zk::NodeStat>& stat,
                         int64_t session) {
  if (!stat.has_value()) {
    return absl::StrCat(described,
                        " is gone (session expired or closed, deleted by "
                        "hand, or the ensemble restored from an older "
                        "snapshot)");
  }
  if (stat->ephemeral_owner != session) {
    return absl::StrCat(described, " now belongs to session ",
                        Hex(stat->ephemeral_owner), ", not this node's ",
                        Hex(session), " (deleted by hand and claimed again)");
  }
  return "";
}

// The exists watch on a claim, armed again after each firing on a thread
// of its own.
class ZooKeeperClaimWatch final : public lp::ClaimWatch {
 public:
  ZooKeeperClaimWatch(std::shared_ptr<zk::ZooKeeperClient> client,
                      std::string path, std::string described, int64_t session,
                      std::function<void(const lp::ClaimEvent&)> on_event)
      : state_(std::make_shared<State>()),
        client_(std::move(client)),
        path_(std::move(path)),
        described_(std::move(described)),
        session_(session),
        on_event_(std::move(on_event)) {
    thread_ = std::thread([this] { Run(); });
  }

  ~ZooKeeperClaimWatch() override {
    {
      MutexLock lock(&state_->mu);
      state_->stop = true;
      state_->cv.SignalAll();
    }
    thread_.join();
  }

 private:
  // Shared with the C client's callback, which may outlive the watch.
  struct State {
    Mutex mu;
    CondVar cv;
    bool stop ABSL_GUARDED_BY(mu) = false;
    bool fired ABSL_GUARDED_BY(mu) = false;
    bool session_lost ABSL_GUARDED_BY(mu) = false;
    // The connection dropped since last looked at (the watch stays armed).
    bool dropped ABSL_GUARDED_BY(mu) = false;
  };

  void Run() {
    for (;;) {
      {
        MutexLock lock(&state_->mu);
        if (state_->stop) return;
        state_->fired = false;
        state_->dropped = false;
      }
      std::shared_ptr<State> state = state_;
      auto stat = client_->Watch(path_, [state](const zk::WatchEvent& event) {
        MutexLock lock(&state->mu);
        if (event.type == zk::WatchEvent::Type::kDisconnected) {
          state->dropped = true;
        } else {
          state->fired = true;
          state->session_lost =
              event.type == zk::WatchEvent::Type::kSessionLost;
        }
        state->cv.SignalAll();
      });
      if (!stat.ok()) {
        if (zk::IsSessionExpired(stat.status())) {
          on_event_(lp::ClaimEvent{
              lp::ClaimEvent::Type::kLost,
              absl::StrCat("ZooKeeper expired session ", Hex(session_), ": ",
                           described_, " is gone")});
          return;
        }
        on_event_(lp::ClaimEvent{lp::ClaimEvent::Type::kBroken,
                                 std::string(stat.status().message())});
        MutexLock lock(&state_->mu);
        if (!state_->stop) {
          state_->cv.WaitFor(&state_->mu, std::chrono::milliseconds(200));
        }
        continue;
      }
      // Whatever changed between the last firing and this watch shows here.
      if (std::string why = ClaimNotHeld(described_, *stat, session_);
          !why.empty()) {
        on_event_(lp::ClaimEvent{lp::ClaimEvent::Type::kLost, why});
        return;
      }
      if (!WaitForFiring()) return;
      bool session_lost = false;
      {
        MutexLock lock(&state_->mu);
        session_lost = state_->session_lost;
      }
      if (session_lost) {
        on_event_(lp::ClaimEvent{
            lp::ClaimEvent::Type::kLost,
            absl::StrCat("ZooKeeper ended session ", Hex(session_), ": ",
                         described_, " is gone")});
        return;
      }
    }
  }

  // Until the watch fires (true) or the watch is stopped (false). Each
  // dropped connection on the way is reported as missed events: the
  // firing may come seconds late, or (when the session was ended on the
  // server and its reconnection is not answered) not before the session
  // timeout, so the protocol reads the claim by other means at once.
  bool WaitForFiring() {
    for (;;) {
      {
        MutexLock lock(&state_->mu);
        while (!state_->stop && !state_->fired && !state_->dropped) {
          state_->cv.WaitFor(&state_->mu, std::chrono::seconds(1));
        }
        if (state_->stop) return false;
        if (state_->fired) return true;
        state_->dropped = false;
      }
      on_event_(lp::ClaimEvent{
          lp::ClaimEvent::Type::kMissed,
          absl::StrCat("the connection of ZooKeeper session ", Hex(session_),
                       " dropped: ", described_, " is read again")});
    }
  }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<zk::ZooKeeperClient> client_;
  const std::string path_;
  const std::string described_;
  const int64_t session_;
  const std::function<void(const lp::ClaimEvent&)> on_event_;
  std::thread thread_;
};

}  // namespace

ZooKeeperCoordinator::ZooKeeperCoordinator(ZooKeeperCoordinatorOptions options,
                                           LeaseClock& clock)
    : options_(std::move(options)),
      clock_(clock),
      session_timeout_(options_.session_timeout) {}

ZooKeeperCoordinator::~ZooKeeperCoordinator() {
  std::shared_ptr<Client> client;
  std::shared_ptr<Client> probe;
  {
    MutexLock lock(&mu_);
    client = std::move(client_);
    probe = std::move(probe_);
  }
}

std::string ZooKeeperCoordinator::ClusterPath() const {
  return Znode(schema::ClusterPrefix(options_.root, options_.cluster));
}

std::string ZooKeeperCoordinator::WorkerPath(int64_t worker_id) const {
  return schema::WorkerKey(options_.root, options_.cluster, worker_id);
}

std::string ZooKeeperCoordinator::HwmPath(int64_t worker_id) const {
  return schema::HwmKey(options_.root, options_.cluster, worker_id);
}

std::string ZooKeeperCoordinator::Describe(const std::string& path) const {
  return absl::StrCat("ZooKeeper znode ", ChrootOf(options_.hosts), path);
}

std::string ZooKeeperCoordinator::DescribeMark(int64_t worker_id) const {
  return Describe(HwmPath(worker_id));
}

std::string ZooKeeperCoordinator::DescribeClaim(int64_t worker_id) const {
  return Describe(WorkerPath(worker_id));
}

std::string ZooKeeperCoordinator::DescribeConfig() const {
  return Describe(schema::ConfigKey(options_.root, options_.cluster));
}

absl::Status ZooKeeperCoordinator::Explain(const absl::Status& status) const {
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(absl::StrCat(
        status.message(),
        options_.auth.empty()
            ? ": the znodes belong to a user; set --zookeeper-auth"
            : ": the credentials of --zookeeper-auth are refused, or the "
              "znodes belong to another user; fix --zookeeper-auth"));
  }
  return status;
}

absl::StatusOr<std::unique_ptr<zk::ZooKeeperClient>>
ZooKeeperCoordinator::Connect(std::chrono::milliseconds session_timeout,
                              std::chrono::milliseconds connect_timeout) const {
  zk::ZooKeeperOptions options;
  options.hosts = options_.hosts;
  options.session_timeout = session_timeout;
  options.digest_auth = options_.auth;
  options.connect_timeout = connect_timeout;
  options.call_timeout = options_.call_timeout;
  LeaseClock* clock = &clock_;
  options.now_micros = [clock] { return clock->NowMicros(); };
  auto client = zk::ZooKeeperClient::Connect(std::move(options));
  if (!client.ok()) return Explain(client.status());
  return client;
}

absl::StatusOr<std::shared_ptr<zk::ZooKeeperClient>>
ZooKeeperCoordinator::Current() {
  std::shared_ptr<Client> stale;  // Destroyed outside the lock.
  std::chrono::milliseconds timeout{0};
  {
    MutexLock lock(&mu_);
    if (client_ != nullptr) {
      const zk::SessionState state = client_->state();
      if (state != zk::SessionState::kExpired &&
          state != zk::SessionState::kAuthFailed) {
        return client_;
      }
      if (opened_ != 0) {
        // A session handed out ends only by CloseSession: the protocol
        // learns of its end from KeepAlive first.
        return absl::UnavailableError(
            absl::StrCat("ZooKeeper session ", Hex(opened_), " at ",
                         options_.hosts, " has ended"));
      }
      stale = std::move(client_);
    }
    timeout = session_timeout_;
  }
  stale.reset();
  auto made = Connect(timeout, options_.connect_timeout);
  if (!made.ok()) return made.status();
  std::shared_ptr<Client> fresh = *std::move(made);
  MutexLock lock(&mu_);
  if (client_ != nullptr) return client_;  // Another thread was first.
  client_ = fresh;
  return fresh;
}

absl::StatusOr<std::shared_ptr<zk::ZooKeeperClient>>
ZooKeeperCoordinator::ClientOf(int64_t session) {
  MutexLock lock(&mu_);
  if (client_ == nullptr || opened_ != session ||
      client_->session_id() != session) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ZooKeeper session ", Hex(session), " was closed or replaced"));
  }
  return client_;
}

absl::Status ZooKeeperCoordinator::EnsureTree(Client& client) {
  std::vector<std::string> paths;
  // Every prefix of the root, then the cluster and its children.
  for (size_t slash = options_.root.find('/', 1); slash != std::string::npos;
       slash = options_.root.find('/', slash + 1)) {
    paths.push_back(options_.root.substr(0, slash));
  }
  paths.push_back(options_.root);
  paths.push_back(ClusterPath());
  paths.push_back(schema::WorkersPrefix(options_.root, options_.cluster));
  paths.push_back(schema::HwmPrefix(options_.root, options_.cluster));
  for (std::string& path : paths) {
    path = Znode(std::move(path));
    auto created = client.Create(path, "", zk::CreateMode::kPersistent);
    if (created.ok() ||
        created.status().code() == absl::StatusCode::kAlreadyExists) {
      continue;
    }
    if (created.status().code() == absl::StatusCode::kNotFound) {
      // Only a missing chroot leaves the first level without a parent.
      return absl::FailedPreconditionError(
          absl::StrCat("ZooKeeper at ", options_.hosts, ": cannot create ",
                       path, " because the chroot ", ChrootOf(options_.hosts),
                       " does not exist. Create it (zkCli.sh create ",
                       ChrootOf(options_.hosts), ") or fix --zookeeper-hosts"));
    }
    return Explain(created.status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ZooKeeperCoordinator::CreateOrReadConfig(
    const std::string& want) {
  auto client = Current();
  if (!client.ok()) return client.status();
  if (absl::Status s = EnsureTree(**client); !s.ok()) return s;
  const std::string path = schema::ConfigKey(options_.root, options_.cluster);
  auto created = (*client)->Create(path, want, zk::CreateMode::kPersistent);
  if (created.ok()) return want;
  if (created.status().code() != absl::StatusCode::kAlreadyExists) {
    return Explain(created.status());
  }
  auto stored = (*client)->Get(path);
  if (stored.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnavailableError(
        absl::StrCat(Describe(path), " vanished while being read; retry"));
  }
  if (!stored.ok()) return Explain(stored.status());
  return std::move(stored->value);
}

absl::StatusOr<lp::Session> ZooKeeperCoordinator::OpenSession(
    int64_t ttl_seconds) {
  std::shared_ptr<Client> stale;
  {
    MutexLock lock(&mu_);
    const std::chrono::milliseconds want(ttl_seconds * 1000);
    // A client whose session was handed out, or made for another timeout,
    // is not handed out again.
    if (client_ != nullptr && (opened_ != 0 || session_timeout_ != want)) {
      stale = std::move(client_);
    }
    session_timeout_ = want;
    opened_ = 0;
    claimed_worker_ = -1;
    claim_version_ = 0;
  }
  stale.reset();
  ReleaseProbe();
  auto client = Current();
  if (!client.ok()) return client.status();
  MutexLock lock(&mu_);
  if (client_ != *client) {
    return absl::UnavailableError(
        absl::StrCat("ZooKeeper at ", options_.hosts,
                     ": the session was replaced while being opened; retry"));
  }
  opened_ = (*client)->session_id();
  const int64_t heard = (*client)->last_heard_micros();
  return lp::Session{opened_, (*client)->negotiated_session_timeout().count(),
                     heard};
}

std::string ZooKeeperCoordinator::Probe(int64_t worker_id, int64_t session) {
  std::shared_ptr<Client> probe;
  {
    MutexLock lock(&mu_);
    probe = probe_;
    if (probe == nullptr) {
      // Sessions are made at most once per call timeout: an unreachable
      // ensemble is not asked for one at every poll.
      const int64_t now = clock_.NowMicros();
      const int64_t spacing = options_.call_timeout.count() * 1000;
      if (last_probe_micros_ != 0 && now - last_probe_micros_ < spacing) {
        return "";
      }
      last_probe_micros_ = now;
    }
  }
  if (probe == nullptr) {
    auto made = Connect(options_.call_timeout, options_.call_timeout);
    if (!made.ok()) return "";  // Nobody answers: an outage, not a loss.
    probe = *std::move(made);
    std::shared_ptr<Client> spare;  // Destroyed outside the lock.
    MutexLock lock(&mu_);
    if (probe_ == nullptr) {
      probe_ = probe;
    } else {
      spare = std::move(probe);
      probe = probe_;
    }
  }
  const zk::SessionState state = probe->state();
  if (state == zk::SessionState::kExpired ||
      state == zk::SessionState::kAuthFailed) {
    ReleaseProbe();  // Not answered for a while: the next probe makes one.
    return "";
  }
  // A probe session cut off too waits for its own reconnection.
  if (state != zk::SessionState::kConnected) return "";
  const std::string path =
      worker_id >= 0 ? WorkerPath(worker_id) : ClusterPath();
  auto stat = probe->Exists(path);
  if (!stat.ok() || worker_id < 0) return "";
  std::string why = ClaimNotHeld(DescribeClaim(worker_id), *stat, session);
  if (why.empty()) return "";
  return absl::StrCat(
      "ZooKeeper answers a new session while this node's session ",
      Hex(session), " is cut off, and ", why);
}

void ZooKeeperCoordinator::ReleaseProbe() {
  std::shared_ptr<Client> probe;  // Closed outside the lock.
  MutexLock lock(&mu_);
  probe = std::move(probe_);
}

absl::StatusOr<lp::SessionEvidence> ZooKeeperCoordinator::KeepAlive(
    int64_t session) {
  lp::SessionEvidence evidence;
  auto client = ClientOf(session);
  if (!client.ok()) {
    evidence.reason = std::string(client.status().message());
    return evidence;
  }
  if ((*client)->state() == zk::SessionState::kExpired) {
    evidence.reason = absl::StrCat("ZooKeeper expired session ", Hex(session),
                                   ": its claim is gone");
    return evidence;
  }
  int64_t worker_id = -1;
  {
    MutexLock lock(&mu_);
    worker_id = claimed_worker_;
  }
  const std::string path =
      worker_id >= 0 ? WorkerPath(worker_id) : ClusterPath();
  const int64_t sent = clock_.NowMicros();
  auto stat = (*client)->Exists(path);
  if (!stat.ok()) {
    if (zk::IsSessionExpired(stat.status())) {
      evidence.reason = absl::StrCat("ZooKeeper expired session ", Hex(session),
                                     ": its claim is gone");
      return evidence;
    }
    if ((*client)->state() == zk::SessionState::kConnecting) {
      if (std::string why = Probe(worker_id, session); !why.empty()) {
        evidence.reason = std::move(why);
        return evidence;
      }
    }
    return stat.status();
  }
  if (worker_id >= 0) {
    if (std::string why =
            ClaimNotHeld(DescribeClaim(worker_id), *stat, session);
        !why.empty()) {
      evidence.reason = std::move(why);
      return evidence;
    }
  }
  ReleaseProbe();  // Answered: this session sees for itself again.
  evidence.alive = true;
  evidence.confirmed_micros = sent;
  evidence.ttl_millis = (*client)->negotiated_session_timeout().count();
  return evidence;
}

absl::Status ZooKeeperCoordinator::CloseSession(int64_t session) {
  std::shared_ptr<Client> closing;
  {
    MutexLock lock(&mu_);
    if (client_ == nullptr || client_->session_id() != session) {
      return absl::NotFoundError(absl::StrCat(
          "ZooKeeper session ", Hex(session), " is already closed"));
    }
    closing = std::move(client_);
    opened_ = 0;
    claimed_worker_ = -1;
  }
  ReleaseProbe();
  const bool expired = closing->state() == zk::SessionState::kExpired;
  closing.reset();  // Closes the session: its ephemeral claim goes at once.
  if (expired) {
    return absl::NotFoundError(
        absl::StrCat("ZooKeeper session ", Hex(session), " had expired"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<lp::ClaimEntry>> ZooKeeperCoordinator::ListClaims() {
  auto client = Current();
  if (!client.ok()) return client.status();
  auto names = (*client)->Children(
      Znode(schema::WorkersPrefix(options_.root, options_.cluster)));
  if (names.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<lp::ClaimEntry>();
  }
  if (!names.ok()) return Explain(names.status());
  std::vector<lp::ClaimEntry> claims;
  for (const std::string& name : *names) {
    auto id = schema::IdOfKey(name);
    if (!id) continue;
    auto node = (*client)->Get(WorkerPath(*id));
    if (node.status().code() == absl::StatusCode::kNotFound) continue;
    if (!node.ok()) return Explain(node.status());
    auto holder = schema::DecodeHolder(node->value);
    claims.push_back(
        lp::ClaimEntry{*id, holder.ok() ? holder->node : std::string("?")});
  }
  return claims;
}

absl::StatusOr<std::vector<lp::MarkEntry>> ZooKeeperCoordinator::ListMarks() {
  auto client = Current();
  if (!client.ok()) return client.status();
  auto names = (*client)->Children(
      Znode(schema::HwmPrefix(options_.root, options_.cluster)));
  if (names.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<lp::MarkEntry>();
  }
  if (!names.ok()) return Explain(names.status());
  std::vector<lp::MarkEntry> marks;
  for (const std::string& name : *names) {
    auto id = schema::IdOfKey(name);
    if (!id) continue;
    auto node = (*client)->Get(HwmPath(*id));
    if (node.status().code() == absl::StatusCode::kNotFound) continue;
    if (!node.ok()) return Explain(node.status());
    auto mark = schema::DecodeHwm(node->value);
    if (!mark.ok()) continue;
    marks.push_back(lp::MarkEntry{*id, *mark});
  }
  return marks;
}

absl::StatusOr<lp::ClaimResult> ZooKeeperCoordinator::CreateClaim(
    int64_t worker_id, const lp::HolderInfo& info, int64_t session) {
  auto client = ClientOf(session);
  if (!client.ok()) return absl::UnavailableError(client.status().message());
  const std::string value = lp::ClaimValue(info, worker_id, session);
  const std::string path = WorkerPath(worker_id);
  auto created = (*client)->Create(path, value, zk::CreateMode::kEphemeral);
  if (created.status().code() == absl::StatusCode::kNotFound) {
    // The tree was deleted under us: make it again, once.
    if (absl::Status s = EnsureTree(**client); !s.ok()) return s;
    created = (*client)->Create(path, value, zk::CreateMode::kEphemeral);
  }
  int32_t version = 0;
  if (!created.ok()) {
    if (created.status().code() != absl::StatusCode::kAlreadyExists) {
      return Explain(created.status());
    }
    // A retried attempt may find our own earlier create.
    auto stat = (*client)->Exists(path);
    if (!stat.ok()) return Explain(stat.status());
    if (!stat->has_value() || (*stat)->ephemeral_owner != session) {
      return lp::ClaimResult{false, 0};
    }
    version = (*stat)->version;
  } else {
    version = created->version;
  }
  MutexLock lock(&mu_);
  claimed_worker_ = worker_id;
  claim_version_ = version;
  return lp::ClaimResult{true, 0};
}

absl::StatusOr<lp::ClaimCheck> ZooKeeperCoordinator::VerifyClaim(
    int64_t worker_id, int64_t session) {
  auto client = ClientOf(session);
  if (!client.ok()) {
    return lp::ClaimCheck{false, std::string(client.status().message())};
  }
  if ((*client)->state() == zk::SessionState::kConnecting) {
    // A read on this session would wait for its reconnection, and a
    // session ended on the server may not be told so before its timeout:
    // ask another session (the protocol asks again at its next poll).
    if (std::string why = Probe(worker_id, session); !why.empty()) {
      return lp::ClaimCheck{false, std::move(why)};
    }
    return absl::UnavailableError(absl::StrCat(
        "ZooKeeper session ", Hex(session), " at ", options_.hosts,
        " is reconnecting; ", DescribeClaim(worker_id), " cannot be read"));
  }
  auto stat = (*client)->Exists(WorkerPath(worker_id));
  if (!stat.ok()) {
    if (zk::IsSessionExpired(stat.status())) {
      return lp::ClaimCheck{
          false, absl::StrCat("ZooKeeper expired session ", Hex(session))};
    }
    return stat.status();
  }
  ReleaseProbe();
  std::string why = ClaimNotHeld(DescribeClaim(worker_id), *stat, session);
  return lp::ClaimCheck{why.empty(), why};
}

absl::StatusOr<std::unique_ptr<lp::ClaimWatch>>
ZooKeeperCoordinator::WatchClaim(
    int64_t worker_id, int64_t session, int64_t /*position*/,
    std::function<void(const lp::ClaimEvent&)> on_event) {
  auto client = ClientOf(session);
  if (!client.ok()) return absl::UnavailableError(client.status().message());
  return std::unique_ptr<lp::ClaimWatch>(new ZooKeeperClaimWatch(
      *std::move(client), WorkerPath(worker_id), DescribeClaim(worker_id),
      session, std::move(on_event)));
}

lp::StoredMark ZooKeeperCoordinator::DecodeMark(int64_t worker_id,
                                                const zk::Node& node) const {
  lp::StoredMark stored;
  stored.version = lp::Version{true, node.stat.version};
  auto mark = schema::DecodeHwm(node.value);
  if (mark.ok()) {
    stored.unix_millis = *mark;
  } else {
    stored.damage =
        absl::StrCat(DescribeMark(worker_id), ": ", mark.status().message());
  }
  return stored;
}

absl::StatusOr<lp::StoredMark> ZooKeeperCoordinator::ReadMark(
    int64_t worker_id) {
  auto client = Current();
  if (!client.ok()) return client.status();
  auto node = (*client)->Get(HwmPath(worker_id));
  if (node.status().code() == absl::StatusCode::kNotFound) {
    return lp::StoredMark{};
  }
  if (!node.ok()) return Explain(node.status());
  return DecodeMark(worker_id, *node);
}

absl::StatusOr<lp::CasResult> ZooKeeperCoordinator::CompareAndSetMark(
    int64_t worker_id, int64_t session, const lp::Version& expected,
    int64_t unix_millis) {
  lp::CasResult cas;
  auto client = ClientOf(session);
  if (!client.ok()) {
    cas.claim_held = false;
    cas.reason = std::string(client.status().message());
    return cas;
  }
  int32_t claim_version = 0;
  {
    MutexLock lock(&mu_);
    claim_version = claim_version_;
  }
  const std::string claim = WorkerPath(worker_id);
  const std::string mark = HwmPath(worker_id);
  const std::string value = schema::EncodeHwm(unix_millis);
  std::vector<zk::Op> ops;
  ops.push_back(zk::Op::Check(claim, claim_version));
  ops.push_back(
      expected.exists
          ? zk::Op::Set(mark, value, static_cast<int32_t>(expected.token))
          : zk::Op::Create(mark, value, zk::CreateMode::kPersistent));
  auto result = (*client)->Multi(ops);
  if (!result.ok()) return Explain(result.status());
  const absl::StatusCode code =
      result->failed_op < 0 ? absl::StatusCode::kOk : result->error.code();
  if (result->failed_op >= 0 && !zk::IsBadVersion(result->error) &&
      code != absl::StatusCode::kNotFound &&
      code != absl::StatusCode::kAlreadyExists) {
    // Neither the claim's nor the mark's state: e.g. refused by an ACL.
    return Explain(result->error);
  }
  if (result->failed_op == 0) {
    cas.claim_held = false;
    cas.reason = absl::StrCat(DescribeClaim(worker_id),
                              " is no longer held by this node's session ",
                              Hex(session), " (", result->error.message(), ")");
    return cas;
  }
  if (result->failed_op < 0) {
    // The check compares versions, not owners: read the owner back.
    auto stat = (*client)->Exists(claim);
    if (stat.ok()) {
      if (std::string why =
              ClaimNotHeld(DescribeClaim(worker_id), *stat, session);
          !why.empty()) {
        cas.claim_held = false;
        cas.reason = std::move(why);
        return cas;
      }
    }
    cas.applied = true;
    cas.version = lp::Version{
        true, expected.exists ? result->stats[1].version : int64_t{0}};
    return cas;
  }
  // The mark moved (or appeared, or vanished): report it as it is now.
  auto node = (*client)->Get(mark);
  if (node.status().code() == absl::StatusCode::kNotFound) {
    cas.current = lp::StoredMark{};
    return cas;
  }
  if (!node.ok()) return Explain(node.status());
  cas.current = DecodeMark(worker_id, *node);
  return cas;
}

lp::HistoryEvidence ZooKeeperCoordinator::TakeHistory() { return {}; }

void ZooKeeperCoordinator::ResetHistory() {}

}  // namespace snowflake
