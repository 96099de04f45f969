#include "testing/fake_lease_clock.h"

#include <algorithm>

namespace snowflake::testing {

int64_t FakeLeaseClock::NowMicros() {
  MutexLock lock(&mu_);
  return now_;
}

void FakeLeaseClock::WaitUntil(Mutex* mu, CondVar* cv,
                               int64_t deadline_micros) {
  Waiter self{mu, cv, 0};
  {
    MutexLock lock(&mu_);
    if (now_ >= deadline_micros) return;
    self.epoch = advances_;
    waiters_.push_back(&self);
    changed_.SignalAll();
  }
  // No advance is missed between the check above and this wait: an advance
  // signals `cv` holding `mu`, which this thread holds until the wait
  // releases it. The timeout only bounds a lost test; it reads as a
  // spurious wake-up.
  cv->WaitFor(mu, std::chrono::hours(1));
  // An advance may be about to signal `cv` under `mu`: let go of `mu` while
  // leaving, so it can finish, and return only once it has (the caller may
  // then destroy `mu` and `cv`).
  mu->Unlock();
  {
    MutexLock lock(&mu_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
    while (self.pins > 0) changed_.WaitFor(&mu_, std::chrono::hours(1));
    changed_.SignalAll();
  }
  mu->Lock();
}

void FakeLeaseClock::AdvanceMicros(int64_t micros) {
  std::vector<Waiter*> waiters;
  {
    MutexLock lock(&mu_);
    now_ += std::max<int64_t>(micros, 0);
    ++advances_;
    waiters = waiters_;
    for (Waiter* waiter : waiters) ++waiter->pins;
  }
  // Not under mu_: a waiter takes mu_ while it holds its own mutex.
  for (Waiter* waiter : waiters) {
    MutexLock lock(waiter->mu);
    waiter->cv->SignalAll();
  }
  MutexLock lock(&mu_);
  for (Waiter* waiter : waiters) --waiter->pins;
  changed_.SignalAll();
}

bool FakeLeaseClock::AwaitWaiters(int n, std::chrono::milliseconds timeout) {
  using std::chrono::milliseconds;
  const auto until = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  for (;;) {
    int current = 0;
    for (const Waiter* waiter : waiters_) {
      if (waiter->epoch == advances_) ++current;
    }
    if (current >= n) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    changed_.WaitFor(&mu_, std::min(left + milliseconds(1), milliseconds(100)));
  }
}

}  // namespace snowflake::testing
