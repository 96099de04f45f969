#include "src/server/internal/wait_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace snowflake::internal {

WaitPool::WaitPool(int threads, int64_t max_waiting_ids)
    : max_waiting_ids_(max_waiting_ids) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

WaitPool::~WaitPool() { Stop(); }

bool WaitPool::TrySubmit(int64_t ids, std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  if (waiting_ids_ > 0 && waiting_ids_ + ids > max_waiting_ids_) return false;
  waiting_ids_ += ids;
  queue_.push_back(Task{ids, std::move(task)});
  wake_.SignalAll();
  return true;
}

void WaitPool::Stop() {
  std::deque<Task> dropped;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
    for (const Task& task : dropped) waiting_ids_ -= task.ids;
    wake_.SignalAll();
  }
  // Destroyed outside the lock: a task may own what refers back here.
  dropped.clear();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

int64_t WaitPool::waiting_ids() const {
  MutexLock lock(&mu_);
  return waiting_ids_;
}

void WaitPool::Run() {
  for (;;) {
    Task task;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) {
        wake_.WaitFor(&mu_, std::chrono::milliseconds(1000));
      }
      if (queue_.empty()) return;  // Stopping.
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task.run();
    task.run = nullptr;  // Whatever it owns goes before the count drops.
    MutexLock lock(&mu_);
    waiting_ids_ -= task.ids;
  }
}

}  // namespace snowflake::internal
