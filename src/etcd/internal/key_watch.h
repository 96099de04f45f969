// The watch of one key behind EtcdClient::Watch: a thread that keeps one
// Watch stream open, re-opening it on another endpoint when it breaks.
#ifndef SNOWFLAKE_SRC_ETCD_INTERNAL_KEY_WATCH_H_
#define SNOWFLAKE_SRC_ETCD_INTERNAL_KEY_WATCH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/etcd/etcd_client.h"
#include "src/etcd/internal/transport.h"

namespace snowflake::etcd::internal {

// See EtcdClient::Watch for the contract. Thread-safe to destroy from any
// thread but its own.
class KeyWatchImpl final : public KeyWatch {
 public:
  // Starts the thread and waits until the first stream is created, or has
  // failed on every endpoint (then joins the thread and returns the error).
  static absl::StatusOr<std::unique_ptr<KeyWatch>> Start(
      std::shared_ptr<Transport> transport, std::string key,
      int64_t start_revision, std::function<void(const WatchEvent&)> on_event);

  ~KeyWatchImpl() override;

 private:
  // How one stream ended.
  struct StreamEnd {
    absl::Status status;
    // The watch was created on it (so the endpoint answered).
    bool created = false;
    // Its start revision was compacted: re-open at once, from now.
    bool compacted = false;
  };

  KeyWatchImpl(std::shared_ptr<Transport> transport, std::string key,
               int64_t start_revision,
               std::function<void(const WatchEvent&)> on_event);

  void Run();
  // Opens a stream on `stubs` and reads it until it ends or is cancelled.
  StreamEnd RunStream(Stubs& stubs);
  // Makes `context` the one the destructor cancels; false when stopping.
  bool Register(grpc::ClientContext* context);
  void Unregister();
  // Tells Start() how the first round ended.
  void Started(absl::Status status);
  bool Stopping();

  const std::shared_ptr<Transport> transport_;
  const std::string key_;
  const std::function<void(const WatchEvent&)> on_event_;

  // Only the watch thread touches these.
  // The revision the next stream starts from; 0: from now.
  int64_t next_revision_;
  bool broken_delivered_ = false;
  bool refresh_token_ = false;

  Mutex mu_;
  CondVar changed_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The context of the request in flight, cancelled on destruction.
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Counts streams opened, so that Start() can time each one.
  uint64_t streams_ ABSL_GUARDED_BY(mu_) = 0;
  // Start() cancelled the stream in flight for taking too long.
  bool timed_out_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status start_status_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace snowflake::etcd::internal

#endif  // SNOWFLAKE_SRC_ETCD_INTERNAL_KEY_WATCH_H_
