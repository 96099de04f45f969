#include "testing/simulated_clock.h"

#include <utility>

namespace snowflake::testing {

void SimulatedClock::SleepForMicros(int64_t micros) {
  if (micros <= 0) micros = 1;  // A sleep always lets some time pass.
  now_.fetch_add(micros);
  slept_.fetch_add(micros);
  sleeps_.fetch_add(1);
  std::function<void(int64_t)> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = hook_;
  }
  if (hook) hook(micros);
}

void SimulatedClock::OnSleep(std::function<void(int64_t)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
}

}  // namespace snowflake::testing
