// One ZooKeeper session over a C client handle: the requests in flight and
// their deadlines, the watches, and what session events report. The
// machinery behind ZooKeeperClient, which only builds requests.
#ifndef SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_SESSION_H_
#define SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_SESSION_H_

#include <zookeeper/zookeeper.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::zookeeper::internal {

// The fields of a C client Stat worth having.
NodeStat FromStat(const Stat& stat);

// Thread-safe. The C client calls back on two threads of its own: the IO
// thread (auth replies) and the completion thread (every other reply,
// watches, session events). Everything those callbacks touch lives in the
// Session, which outlives them: the destructor closes the handle, which
// joins both threads, before any member goes. Requests whose caller gave
// up, and watches that have not fired, are owned by the Session until then,
// so a late callback always finds its context alive.
class Session {
 public:
  // What a request's completion reports.
  struct Reply {
    int rc = ZOK;
    NodeStat stat;  // when rc is ZOK and the request returns a stat
    std::string value;
    std::vector<std::string> children;
  };

  // A watch set by Watch: the context of its C watcher.
  struct WatchState {
    Session* session = nullptr;
    std::string path;
    std::function<void(const WatchEvent&)> on_event;
    // Touched only on the completion thread.
    bool fired = false;
  };

  explicit Session(ZooKeeperOptions options);
  // Closes the handle (ending the session), then frees what callbacks use.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Makes the handle and waits as ZooKeeperClient::Connect says.
  absl::Status Start();

  // Hands one request to the C client (`send` gets the completion's data,
  // for the On* completions below, and returns the zoo_a* result) and waits
  // up to `timeout` for its reply. The reply's rc may be an error; a status
  // comes back only when there is no reply: kDeadlineExceeded, or the C
  // client refused the request at once. `watch`, if any, is the watch the
  // request sets; it is forgotten when the reply says it was not set.
  // `buffers`, if any, are what the C client writes the reply into (a
  // multi's results): kept alive until the completion, even when the
  // caller stops waiting first.
  absl::StatusOr<Reply> Run(const std::string& what,
                            std::chrono::milliseconds timeout,
                            WatchState* watch,
                            absl::FunctionRef<int(const void*)> send,
                            std::shared_ptr<void> buffers = nullptr);
  // Run with call_timeout, for the public calls: a reply whose rc is
  // neither ZOK nor `also_ok` comes back as its status.
  absl::StatusOr<Reply> Request(const std::string& what, WatchState* watch,
                                absl::FunctionRef<int(const void*)> send,
                                int also_ok = ZOK);

  // "ZooKeeper <op> <path> at <hosts>", the start of every error message.
  std::string What(std::string_view op, std::string_view path) const;

  // A watch state for OnWatch, owned by the session.
  WatchState* AddWatch(std::string path,
                       std::function<void(const WatchEvent&)> on_event);

  // Set by Start; valid until the destructor.
  zhandle_t* handle() const { return zh_; }
  const ZooKeeperOptions& options() const { return options_; }

  SessionState state() const;
  int64_t session_id() const;
  std::chrono::milliseconds negotiated_timeout() const;
  int64_t last_heard_micros() const;
  std::string connected_server() const;

  // Completions for Run's `send` (data: what `send` was given).
  static void OnVoid(int rc, const void* data);
  static void OnStat(int rc, const Stat* stat, const void* data);
  static void OnData(int rc, const char* value, int value_len, const Stat* stat,
                     const void* data);
  static void OnStrings(int rc, const String_vector* strings, const void* data);
  static void OnCreated(int rc, const char* path, const Stat* stat,
                        const void* data);
  // The watcher for AddWatch's states (context: the WatchState).
  static void OnWatch(zhandle_t* zh, int type, int state, const char* path,
                      void* context);

 private:
  struct Call;

  static void OnSession(zhandle_t* zh, int type, int state, const char* path,
                        void* context);
  void Complete(const void* data, Reply reply);
  void ForgetCall(const Call* call);
  void ForgetWatch(const WatchState* watch);

  ZooKeeperOptions options_;
  zhandle_t* zh_ = nullptr;

  mutable Mutex mu_;
  CondVar state_changed_;
  SessionState state_ ABSL_GUARDED_BY(mu_) = SessionState::kConnecting;
  int64_t session_id_ ABSL_GUARDED_BY(mu_) = 0;
  int negotiated_timeout_ms_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_heard_micros_ ABSL_GUARDED_BY(mu_) = 0;
  std::string connected_server_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<const Call*, std::unique_ptr<Call>> calls_
      ABSL_GUARDED_BY(mu_);
  std::unordered_map<const WatchState*, std::unique_ptr<WatchState>> watches_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace snowflake::zookeeper::internal

#endif  // SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_SESSION_H_
