#include "src/zookeeper/zookeeper_client.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <utility>

#include "src/base/strings.h"
#include "src/zookeeper/internal/log.h"
#include "src/zookeeper/internal/session.h"
#include "src/zookeeper/internal/status.h"

namespace snowflake::zookeeper {

using internal::Session;

const char* SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnecting:
      return "CONNECTING";
    case SessionState::kConnected:
      return "CONNECTED";
    case SessionState::kExpired:
      return "EXPIRED";
    case SessionState::kAuthFailed:
      return "AUTH_FAILED";
  }
  return "UNKNOWN";
}

absl::StatusOr<std::unique_ptr<ZooKeeperClient>> ZooKeeperClient::Connect(
    ZooKeeperOptions options) {
  if (options.hosts.empty()) {
    return absl::InvalidArgumentError("ZooKeeper: no hosts");
  }
  if (options.session_timeout.count() <= 0 ||
      options.connect_timeout.count() <= 0 ||
      options.call_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        base::Cat("ZooKeeper at ", options.hosts,
                  ": session, connect and call timeouts must be positive"));
  }
  const size_t colon = options.digest_auth.find(':');
  if (!options.digest_auth.empty() &&
      (colon == std::string::npos || colon == 0)) {
    return absl::InvalidArgumentError(base::Cat(
        "ZooKeeper at ", options.hosts, ": digest auth is not user:password"));
  }
  internal::SetDefaultLogLevelOnce();
  auto session = std::make_unique<Session>(std::move(options));
  if (absl::Status status = session->Start(); !status.ok()) return status;
  return std::unique_ptr<ZooKeeperClient>(
      new ZooKeeperClient(std::move(session)));
}

ZooKeeperClient::ZooKeeperClient(std::unique_ptr<Session> session)
    : session_(std::move(session)) {}

ZooKeeperClient::~ZooKeeperClient() = default;

absl::StatusOr<NodeStat> ZooKeeperClient::Create(const std::string& path,
                                                 std::string_view value,
                                                 CreateMode mode) {
  Session& session = *session_;
  const std::string what = session.What("create", path);
  const ACL_vector* acl = session.options().digest_auth.empty()
                              ? &ZOO_OPEN_ACL_UNSAFE
                              : &ZOO_CREATOR_ALL_ACL;
  const int flags =
      mode == CreateMode::kEphemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT;
  absl::StatusOr<Session::Reply> reply =
      session.Request(what, nullptr, [&](const void* d) {
        return zoo_acreate2(session.handle(), path.c_str(), value.data(),
                            static_cast<int>(value.size()), acl, flags,
                            &Session::OnCreated, d);
      });
  if (!reply.ok()) return reply.status();
  return reply->stat;
}

absl::StatusOr<Node> ZooKeeperClient::Get(const std::string& path) {
  Session& session = *session_;
  const std::string what = session.What("get", path);
  absl::StatusOr<Session::Reply> reply =
      session.Request(what, nullptr, [&](const void* d) {
        return zoo_aget(session.handle(), path.c_str(), 0, &Session::OnData, d);
      });
  if (!reply.ok()) return reply.status();
  return Node{std::move(reply->value), reply->stat};
}

absl::StatusOr<std::optional<NodeStat>> ZooKeeperClient::Exists(
    const std::string& path) {
  Session& session = *session_;
  const std::string what = session.What("exists", path);
  absl::StatusOr<Session::Reply> reply = session.Request(
      what, nullptr,
      [&](const void* d) {
        return zoo_aexists(session.handle(), path.c_str(), 0, &Session::OnStat,
                           d);
      },
      ZNONODE);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return std::optional<NodeStat>();
  return std::optional<NodeStat>(reply->stat);
}

absl::StatusOr<NodeStat> ZooKeeperClient::Set(const std::string& path,
                                              std::string_view value,
                                              int32_t expected_version) {
  Session& session = *session_;
  const std::string what =
      base::Cat(session.What("set", path), " (version ", expected_version, ")");
  absl::StatusOr<Session::Reply> reply =
      session.Request(what, nullptr, [&](const void* d) {
        return zoo_aset(session.handle(), path.c_str(), value.data(),
                        static_cast<int>(value.size()), expected_version,
                        &Session::OnStat, d);
      });
  if (!reply.ok()) return reply.status();
  return reply->stat;
}

absl::Status ZooKeeperClient::Delete(const std::string& path,
                                     int32_t expected_version) {
  Session& session = *session_;
  const std::string what = base::Cat(session.What("delete", path), " (version ",
                                     expected_version, ")");
  absl::StatusOr<Session::Reply> reply =
      session.Request(what, nullptr, [&](const void* d) {
        return zoo_adelete(session.handle(), path.c_str(), expected_version,
                           &Session::OnVoid, d);
      });
  return reply.status();
}

absl::StatusOr<std::vector<std::string>> ZooKeeperClient::Children(
    const std::string& path) {
  Session& session = *session_;
  const std::string what = session.What("children", path);
  absl::StatusOr<Session::Reply> reply =
      session.Request(what, nullptr, [&](const void* d) {
        return zoo_aget_children(session.handle(), path.c_str(), 0,
                                 &Session::OnStrings, d);
      });
  if (!reply.ok()) return reply.status();
  std::sort(reply->children.begin(), reply->children.end());
  return std::move(reply->children);
}

Op Op::Check(std::string path, int32_t version) {
  Op op;
  op.type = Type::kCheck;
  op.path = std::move(path);
  op.version = version;
  return op;
}

Op Op::Create(std::string path, std::string value, CreateMode mode) {
  Op op;
  op.type = Type::kCreate;
  op.path = std::move(path);
  op.value = std::move(value);
  op.mode = mode;
  return op;
}

Op Op::Set(std::string path, std::string value, int32_t version) {
  Op op;
  op.type = Type::kSet;
  op.path = std::move(path);
  op.value = std::move(value);
  op.version = version;
  return op;
}

Op Op::Delete(std::string path, int32_t version) {
  Op op;
  op.type = Type::kDelete;
  op.path = std::move(path);
  op.version = version;
  return op;
}

namespace {

// What a multi's request points into and its reply is written into: alive
// until the completion (Session::Run keeps it).
struct MultiBuffers {
  std::vector<Op> ops;
  std::vector<zoo_op_t> requests;
  std::vector<zoo_op_result_t> results;
  std::vector<Stat> stats;
  // A create's path buffer (the created path, unused: not sequential).
  std::vector<std::vector<char>> paths;
};

const char* OpName(Op::Type type) {
  switch (type) {
    case Op::Type::kCheck:
      return "check";
    case Op::Type::kCreate:
      return "create";
    case Op::Type::kSet:
      return "set";
    case Op::Type::kDelete:
      return "delete";
  }
  return "?";
}

}  // namespace

absl::StatusOr<MultiResult> ZooKeeperClient::Multi(const std::vector<Op>& ops) {
  Session& session = *session_;
  if (ops.empty()) {
    return absl::InvalidArgumentError(
        base::Cat("ZooKeeper multi at ", hosts(), ": no operations"));
  }
  auto buffers = std::make_shared<MultiBuffers>();
  buffers->ops = ops;
  const size_t count = ops.size();
  buffers->requests.resize(count);
  buffers->results.resize(count);
  buffers->stats.resize(count);
  buffers->paths.resize(count);
  const ACL_vector* acl = session.options().digest_auth.empty()
                              ? &ZOO_OPEN_ACL_UNSAFE
                              : &ZOO_CREATOR_ALL_ACL;
  std::string paths;
  for (size_t i = 0; i < count; ++i) {
    const Op& op = buffers->ops[i];
    zoo_op_t* request = &buffers->requests[i];
    switch (op.type) {
      case Op::Type::kCheck:
        zoo_check_op_init(request, op.path.c_str(), op.version);
        break;
      case Op::Type::kCreate:
        buffers->paths[i].resize(op.path.size() + 1);
        zoo_create_op_init(
            request, op.path.c_str(), op.value.data(),
            static_cast<int>(op.value.size()), acl,
            op.mode == CreateMode::kEphemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT,
            buffers->paths[i].data(),
            static_cast<int>(buffers->paths[i].size()));
        break;
      case Op::Type::kSet:
        zoo_set_op_init(request, op.path.c_str(), op.value.data(),
                        static_cast<int>(op.value.size()), op.version,
                        &buffers->stats[i]);
        break;
      case Op::Type::kDelete:
        zoo_delete_op_init(request, op.path.c_str(), op.version);
        break;
    }
    base::Append(paths, i == 0 ? "" : ", ", OpName(op.type), " ", op.path);
  }
  const std::string what = session.What("multi", base::Cat("(", paths, ")"));
  // zoo_amulti of the C client (3.8) crashes when called on a handle that
  // can no longer be used (session expired, auth failed): it frees request
  // paths it never made. Refuse here, with the ZINVALIDSTATE every other
  // call gets from the C client itself. (The C client sets these states
  // once, on its own thread, when a server answers a reconnection; the
  // window between this check and its own is a few instructions.)
  if (const int state = zoo_state(session.handle());
      state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    return internal::FromResultCode(internal::InvalidStateCode(state), what);
  }
  MultiBuffers* raw = buffers.get();
  absl::StatusOr<Session::Reply> reply = session.Run(
      what, session.options().call_timeout, nullptr,
      [&](const void* d) {
        return zoo_amulti(session.handle(), static_cast<int>(count),
                          raw->requests.data(), raw->results.data(),
                          &Session::OnVoid, d);
      },
      buffers);
  if (!reply.ok()) return reply.status();
  // No answer (connection loss, timeout, expiry found at reconnection): the
  // C client then marks every operation with the same error, which says
  // nothing about the operations themselves.
  if (!internal::IsServerReply(reply->rc)) {
    return internal::FromResultCode(reply->rc, what);
  }
  MultiResult result;
  if (reply->rc == ZOK) {
    result.stats.resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (ops[i].type == Op::Type::kSet) {
        result.stats[i] = internal::FromStat(raw->stats[i]);
      }
    }
    return result;
  }
  // The C client reports each operation's error; the ones after the failed
  // one carry ZRUNTIMEINCONSISTENCY.
  for (size_t i = 0; i < count; ++i) {
    const int rc = raw->results[i].err;
    if (rc != ZOK && rc != ZRUNTIMEINCONSISTENCY) {
      result.failed_op = static_cast<int>(i);
      result.error = internal::FromResultCode(
          rc, base::Cat(session.What(OpName(ops[i].type), ops[i].path),
                        " (in a multi)"));
      return result;
    }
  }
  // No operation's error: the multi itself failed (no answer).
  return internal::FromResultCode(reply->rc, what);
}

absl::StatusOr<std::optional<NodeStat>> ZooKeeperClient::Watch(
    const std::string& path, std::function<void(const WatchEvent&)> on_event) {
  Session& session = *session_;
  const std::string what = session.What("watch", path);
  Session::WatchState* watch = session.AddWatch(path, std::move(on_event));
  absl::StatusOr<Session::Reply> reply = session.Request(
      what, watch,
      [&](const void* d) {
        return zoo_awexists(session.handle(), path.c_str(), &Session::OnWatch,
                            watch, &Session::OnStat, d);
      },
      ZNONODE);
  if (!reply.ok()) return reply.status();
  if (reply->rc == ZNONODE) return std::optional<NodeStat>();
  return std::optional<NodeStat>(reply->stat);
}

SessionState ZooKeeperClient::state() const { return session_->state(); }

int64_t ZooKeeperClient::session_id() const { return session_->session_id(); }

std::chrono::milliseconds ZooKeeperClient::negotiated_session_timeout() const {
  return session_->negotiated_timeout();
}

int64_t ZooKeeperClient::last_heard_micros() const {
  return session_->last_heard_micros();
}

std::string ZooKeeperClient::connected_server() const {
  return session_->connected_server();
}

const std::string& ZooKeeperClient::hosts() const {
  return session_->options().hosts;
}

}  // namespace snowflake::zookeeper
