#include "src/zookeeper/zookeeper_client.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <utility>

#include "src/base/strings.h"
#include "src/zookeeper/internal/log.h"
#include "src/zookeeper/internal/session.h"

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
