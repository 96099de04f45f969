#include "src/zookeeper/internal/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "src/base/strings.h"
#include "src/zookeeper/internal/log.h"
#include "src/zookeeper/internal/status.h"

namespace snowflake::zookeeper::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

int64_t BootTimeMicros() {
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
}

SessionState FromZooState(int state) {
  if (state == ZOO_CONNECTED_STATE) return SessionState::kConnected;
  if (state == ZOO_EXPIRED_SESSION_STATE) return SessionState::kExpired;
  if (state == ZOO_AUTH_FAILED_STATE) return SessionState::kAuthFailed;
  // CONNECTING, ASSOCIATING, NOTCONNECTED, 0 (between attempts); READONLY
  // needs the ZOO_READONLY flag, which Connect does not pass.
  return SessionState::kConnecting;
}

// The peer of the handle's socket as "ip:port", or empty.
std::string PeerOf(zhandle_t* zh) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (zookeeper_get_connected_host(zh, reinterpret_cast<sockaddr*>(&address),
                                   &length) == nullptr) {
    return "";
  }
  char ip[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
    return base::Cat(ip, ":", ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
    return base::Cat("[", ip, "]:", ntohs(v6->sin6_port));
  }
  return "";
}

}  // namespace

NodeStat FromStat(const Stat& stat) {
  NodeStat out;
  out.version = stat.version;
  out.cversion = stat.cversion;
  out.czxid = stat.czxid;
  out.mzxid = stat.mzxid;
  out.ephemeral_owner = stat.ephemeralOwner;
  out.data_length = stat.dataLength;
  out.num_children = stat.numChildren;
  return out;
}

// One request in flight; the `data` of its completion.
struct Session::Call {
  Session* session = nullptr;
  // When the request was handed to the C client (now_micros' clock).
  int64_t sent_micros = 0;
  // The watch the request sets, if any.
  WatchState* watch = nullptr;
  // What the reply is written into, if anything (see Run).
  std::shared_ptr<void> buffers;

  Mutex mu;
  CondVar cv;
  bool done ABSL_GUARDED_BY(mu) = false;
  // The caller stopped waiting; the completion frees the call.
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  Reply reply ABSL_GUARDED_BY(mu);
};

Session::Session(ZooKeeperOptions options) : options_(std::move(options)) {
  if (!options_.now_micros) options_.now_micros = BootTimeMicros;
}

Session::~Session() {
  // Joins the C client's threads; after this no callback runs, and the
  // calls and watches still held go with the maps.
  if (zh_ != nullptr) zookeeper_close(zh_);
}

absl::StatusOr<Session::Reply> Session::Request(
    const std::string& what, WatchState* watch,
    absl::FunctionRef<int(const void*)> send, int also_ok) {
  absl::StatusOr<Reply> reply = Run(what, options_.call_timeout, watch, send);
  if (reply.ok() && reply->rc != ZOK && reply->rc != also_ok) {
    return FromResultCode(reply->rc, what);
  }
  return reply;
}

std::string Session::What(std::string_view op, std::string_view path) const {
  return base::Cat("ZooKeeper ", op, " ", path, " at ", options_.hosts);
}

Session::WatchState* Session::AddWatch(
    std::string path, std::function<void(const WatchEvent&)> on_event) {
  auto watch = std::make_unique<WatchState>();
  watch->session = this;
  watch->path = std::move(path);
  watch->on_event = std::move(on_event);
  WatchState* raw = watch.get();
  MutexLock lock(&mu_);
  watches_.emplace(raw, std::move(watch));
  return raw;
}

void Session::ForgetWatch(const WatchState* watch) {
  std::unique_ptr<WatchState> gone;  // freed after the lock
  MutexLock lock(&mu_);
  auto it = watches_.find(watch);
  if (it == watches_.end()) return;
  gone = std::move(it->second);
  watches_.erase(it);
}

void Session::ForgetCall(const Call* call) {
  std::unique_ptr<Call> gone;  // freed after the lock
  MutexLock lock(&mu_);
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  gone = std::move(it->second);
  calls_.erase(it);
}

SessionState Session::state() const {
  MutexLock lock(&mu_);
  return state_;
}

int64_t Session::session_id() const {
  MutexLock lock(&mu_);
  return session_id_;
}

milliseconds Session::negotiated_timeout() const {
  MutexLock lock(&mu_);
  return milliseconds(negotiated_timeout_ms_);
}

int64_t Session::last_heard_micros() const {
  MutexLock lock(&mu_);
  return last_heard_micros_;
}

std::string Session::connected_server() const {
  MutexLock lock(&mu_);
  return connected_server_;
}

void Session::OnSession(zhandle_t* zh, int type, int state,
                        const char* /*path*/, void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  Session* session = static_cast<Session*>(context);
  const SessionState now = FromZooState(state);
  {
    MutexLock lock(&session->mu_);
    session->state_ = now;
    if (now == SessionState::kConnected) {
      // The C client sets both from the server's handshake reply before it
      // queues this event.
      session->session_id_ = zoo_client_id(zh)->client_id;
      session->negotiated_timeout_ms_ = zoo_recv_timeout(zh);
      session->connected_server_ = PeerOf(zh);
    }
    session->state_changed_.SignalAll();
  }
  if (session->options_.on_session_event) {
    session->options_.on_session_event(now);
  }
}

void Session::OnWatch(zhandle_t* /*zh*/, int type, int state,
                      const char* /*path*/, void* context) {
  WatchState* watch = static_cast<WatchState*>(context);
  if (watch->fired) return;
  WatchEvent event;
  event.path = watch->path;
  // A node event removes the watcher from the C client's tables; a session
  // event does not, so after kSessionLost the state stays until ~Session.
  bool forget = true;
  if (type == ZOO_SESSION_EVENT) {
    if (state == ZOO_CONNECTING_STATE) {
      // Connection lost: the watch lives on, but its news may be late.
      event.type = WatchEvent::Type::kDisconnected;
      if (watch->on_event) watch->on_event(event);
      return;
    }
    if (state != ZOO_EXPIRED_SESSION_STATE && state != ZOO_AUTH_FAILED_STATE) {
      return;  // connection back: the watch lives on
    }
    event.type = WatchEvent::Type::kSessionLost;
    forget = false;
  } else if (type == ZOO_CREATED_EVENT) {
    event.type = WatchEvent::Type::kCreated;
  } else if (type == ZOO_DELETED_EVENT) {
    event.type = WatchEvent::Type::kDeleted;
  } else if (type == ZOO_CHANGED_EVENT) {
    event.type = WatchEvent::Type::kDataChanged;
  } else {
    return;  // child events are not asked for
  }
  watch->fired = true;
  if (watch->on_event) watch->on_event(event);
  if (forget) watch->session->ForgetWatch(watch);
}

void Session::Complete(const void* data, Reply reply) {
  Call* call = static_cast<Call*>(const_cast<void*>(data));
  if (IsServerReply(reply.rc)) {
    MutexLock lock(&mu_);
    last_heard_micros_ = std::max(last_heard_micros_, call->sent_micros);
  }
  // An exists-watch is set when the node exists (ZOK) or not (ZNONODE).
  if (call->watch != nullptr && reply.rc != ZOK && reply.rc != ZNONODE) {
    ForgetWatch(call->watch);
  }
  bool abandoned = false;
  {
    MutexLock lock(&call->mu);
    call->reply = std::move(reply);
    call->done = true;
    abandoned = call->abandoned;
    call->cv.SignalAll();
  }
  if (abandoned) ForgetCall(call);
}

void Session::OnVoid(int rc, const void* data) {
  Reply reply;
  reply.rc = rc;
  static_cast<const Call*>(data)->session->Complete(data, std::move(reply));
}

void Session::OnStat(int rc, const Stat* stat, const void* data) {
  Reply reply;
  reply.rc = rc;
  if (rc == ZOK && stat != nullptr) {
    reply.stat = FromStat(*stat);
  }
  static_cast<const Call*>(data)->session->Complete(data, std::move(reply));
}

void Session::OnData(int rc, const char* value, int value_len, const Stat* stat,
                     const void* data) {
  Reply reply;
  reply.rc = rc;
  if (rc == ZOK && stat != nullptr) {
    reply.stat = FromStat(*stat);
    // value_len is -1 for a node created with null data.
    if (value != nullptr && value_len > 0) reply.value.assign(value, value_len);
  }
  static_cast<const Call*>(data)->session->Complete(data, std::move(reply));
}

void Session::OnStrings(int rc, const String_vector* strings,
                        const void* data) {
  Reply reply;
  reply.rc = rc;
  if (rc == ZOK && strings != nullptr) {
    reply.children.reserve(strings->count);
    for (int32_t i = 0; i < strings->count; ++i) {
      reply.children.emplace_back(strings->data[i]);
    }
  }
  static_cast<const Call*>(data)->session->Complete(data, std::move(reply));
}

void Session::OnCreated(int rc, const char* /*path*/, const Stat* stat,
                        const void* data) {
  OnStat(rc, stat, data);
}

absl::StatusOr<Session::Reply> Session::Run(
    const std::string& what, milliseconds timeout, WatchState* watch,
    absl::FunctionRef<int(const void*)> send, std::shared_ptr<void> buffers) {
  auto owned = std::make_unique<Call>();
  Call* call = owned.get();
  call->session = this;
  call->watch = watch;
  call->buffers = std::move(buffers);
  {
    MutexLock lock(&mu_);
    calls_.emplace(call, std::move(owned));
  }
  call->sent_micros = options_.now_micros();
  int rc = send(call);
  if (rc != ZOK) {
    // Refused at once: no completion will come.
    if (rc == ZINVALIDSTATE) rc = InvalidStateCode(zoo_state(zh_));
    if (watch != nullptr) ForgetWatch(watch);
    ForgetCall(call);
    return FromResultCode(rc, what);
  }
  const steady_clock::time_point deadline = steady_clock::now() + timeout;
  Reply reply;
  {
    MutexLock lock(&call->mu);
    while (!call->done) {
      const steady_clock::time_point now = steady_clock::now();
      if (now >= deadline) {
        call->abandoned = true;
        return absl::DeadlineExceededError(
            base::Cat(what, ": no reply within ", timeout.count(),
                      " ms (a change may still be applied)"));
      }
      call->cv.WaitFor(&call->mu,
                       std::chrono::ceil<milliseconds>(deadline - now));
    }
    reply = std::move(call->reply);
  }
  ForgetCall(call);
  return reply;
}

absl::Status Session::Start() {
  const std::string& hosts = options_.hosts;
  errno = 0;
  zh_ = zookeeper_init2(hosts.c_str(), &Session::OnSession,
                        static_cast<int>(options_.session_timeout.count()),
                        nullptr, this, 0, &LogLine);
  if (zh_ == nullptr) {
    const int error = errno;
    return absl::InvalidArgumentError(
        base::Cat("ZooKeeper at ", hosts, ": cannot use the host list: ",
                  error != 0 ? std::strerror(error) : "unknown error"));
  }
  const steady_clock::time_point deadline =
      steady_clock::now() + options_.connect_timeout;
  // Connect reports running out of time as kUnavailable, whatever step
  // it was at.
  auto unavailable_if_late = [](const absl::Status& status) {
    return status.code() == absl::StatusCode::kDeadlineExceeded
               ? absl::UnavailableError(status.message())
               : status;
  };
  auto remaining = [&] {
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(
                                         deadline - steady_clock::now()));
  };
  {
    MutexLock lock(&mu_);
    while (state_ == SessionState::kConnecting && remaining().count() > 0) {
      state_changed_.WaitFor(&mu_, remaining());
    }
    if (state_ != SessionState::kConnected) {
      const std::string message =
          base::Cat("ZooKeeper at ", hosts, ": no session within ",
                    options_.connect_timeout.count(), " ms (state ",
                    SessionStateName(state_), ")");
      return state_ == SessionState::kAuthFailed
                 ? absl::PermissionDeniedError(message)
                 : absl::UnavailableError(message);
    }
  }
  if (!options_.digest_auth.empty()) {
    // Only once connected: before its first connection attempt the handle
    // has state 0, and zoo_add_auth refuses it (ZINVALIDSTATE). The C client
    // sends it again after every reconnection. Digest credentials are never
    // refused (the server only hashes them); a wrong password shows as
    // kPermissionDenied on the nodes it does not own.
    const std::string& credentials = options_.digest_auth;
    absl::StatusOr<Reply> auth =
        Run(What("auth", "digest"), remaining(), nullptr, [&](const void* d) {
          return zoo_add_auth(zh_, "digest", credentials.data(),
                              static_cast<int>(credentials.size()),
                              &Session::OnVoid, d);
        });
    if (!auth.ok()) return unavailable_if_late(auth.status());
    if (auth->rc != ZOK) {
      return FromResultCode(auth->rc, What("auth", "digest"));
    }
  }
  // One answered request, so that last_heard_micros() starts out set.
  absl::StatusOr<Reply> probe =
      Run(What("exists", "/"), remaining(), nullptr, [&](const void* d) {
        return zoo_aexists(zh_, "/", 0, &Session::OnStat, d);
      });
  if (!probe.ok()) return unavailable_if_late(probe.status());
  if (!IsServerReply(probe->rc)) {
    return FromResultCode(probe->rc, What("exists", "/"));
  }
  return absl::OkStatus();
}

}  // namespace snowflake::zookeeper::internal
