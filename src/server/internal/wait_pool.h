// Threads for the requests that must wait for the clock (a batch larger
// than what is left of the current tick), so that an I/O thread never
// sleeps and /healthz, /readyz and new connections are answered whatever
// the load. The IDs waiting are bounded: past the bound a request is
// refused at once (503, retry) instead of queueing for seconds.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_WAIT_POOL_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_WAIT_POOL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "src/base/mutex.h"

namespace snowflake::internal {

// Thread safety: every method may be called from any thread. Not copyable.
class WaitPool {
 public:
  // Starts `threads` (at least one) threads. `max_waiting_ids`: the most
  // IDs queued or being issued at once; at least one request of any size
  // is admitted when nothing waits.
  WaitPool(int threads, int64_t max_waiting_ids);
  ~WaitPool();  // Stop().
  WaitPool(const WaitPool&) = delete;
  WaitPool& operator=(const WaitPool&) = delete;

  // Queues `task`, which issues `ids` IDs, to run on a pool thread in FIFO
  // order. False, and nothing queued, when the IDs waiting would exceed the
  // bound or the pool is stopped.
  bool TrySubmit(int64_t ids, std::function<void()> task);

  // Drops the tasks not started (destroying them), waits for the running
  // ones and joins the threads. Idempotent.
  void Stop();

  int64_t waiting_ids() const;

 private:
  struct Task {
    int64_t ids;
    std::function<void()> run;
  };
  void Run();

  const int64_t max_waiting_ids_;
  mutable Mutex mu_;
  CondVar wake_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  int64_t waiting_ids_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_WAIT_POOL_H_
