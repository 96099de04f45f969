// A Clock whose time moves only when a test says so (or, if auto-advance is
// on, when the code under test sleeps), for driving the generator through
// rollbacks, steps, exhaustion and pauses deterministically.
#ifndef SNOWFLAKE_TESTING_SIMULATED_CLOCK_H_
#define SNOWFLAKE_TESTING_SIMULATED_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "snowflake/clock.h"

namespace snowflake::testing {

// Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(int64_t start_micros) : now_(start_micros) {}

  int64_t NowMicros() override { return now_.load(); }
  // Advances the time by `micros` (the sleeper is the only one waiting), then
  // runs the on-sleep hook, if any.
  void SleepForMicros(int64_t micros) override;

  void SetMicros(int64_t micros) { now_.store(micros); }
  void AdvanceMicros(int64_t micros) { now_.fetch_add(micros); }
  void SetMillis(int64_t millis) { now_.store(millis * 1000); }
  void AdvanceMillis(int64_t millis) { now_.fetch_add(millis * 1000); }

  // Called after each sleep with the slept micros; lets a test step the
  // clock in the middle of a wait.
  void OnSleep(std::function<void(int64_t)> hook);
  int64_t total_slept_micros() const { return slept_.load(); }
  int64_t sleeps() const { return sleeps_.load(); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> slept_{0};
  std::atomic<int64_t> sleeps_{0};
  std::mutex mu_;
  std::function<void(int64_t)> hook_;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_SIMULATED_CLOCK_H_
