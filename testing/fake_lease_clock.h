// A LeaseClock whose time moves only when a test says so, for driving a
// lease's fencing deadline, takeover wait and keep-alive schedule to the
// microsecond without sleeping. Timed waits on it end when the test
// advances the time past their deadline (or when they are signalled).
#ifndef SNOWFLAKE_TESTING_FAKE_LEASE_CLOCK_H_
#define SNOWFLAKE_TESTING_FAKE_LEASE_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "src/base/mutex.h"
#include "src/lease/lease_clock.h"

namespace snowflake::testing {

// Thread-safe. Must outlive every thread waiting on it.
class FakeLeaseClock final : public LeaseClock {
 public:
  explicit FakeLeaseClock(int64_t start_micros = 1'000'000'000'000)
      : now_(start_micros) {}

  int64_t NowMicros() override;
  // Blocks until `cv` is signalled or AdvanceMicros reaches
  // `deadline_micros`, whatever the real time.
  void WaitUntil(Mutex* mu, CondVar* cv, int64_t deadline_micros) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Moves the time forward by `micros` (>= 0) and wakes every waiter, each
  // of which looks at the new time (a waiter whose deadline has not come
  // waits again).
  void AdvanceMicros(int64_t micros);
  void AdvanceMillis(int64_t millis) { AdvanceMicros(millis * 1000); }

  // Blocks (for up to `timeout` of real time) until at least `n` threads
  // wait on this clock having started that wait at the current time: each
  // has done what was due by now and is idle until the next advance or
  // signal. False on timeout. This is how a test knows that a background
  // thread has reacted to an advance, without sleeping.
  bool AwaitWaiters(int n, std::chrono::milliseconds timeout =
                               std::chrono::milliseconds(30'000));

 private:
  struct Waiter {
    Mutex* mu;
    CondVar* cv;
    uint64_t epoch;  // advances_ when the wait began.
    int pins = 0;    // AdvanceMicros calls about to signal it.
  };

  Mutex mu_;
  CondVar changed_;  // Waiters came or went, or pins dropped.
  int64_t now_ ABSL_GUARDED_BY(mu_);
  uint64_t advances_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_FAKE_LEASE_CLOCK_H_
