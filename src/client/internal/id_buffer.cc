#include "src/client/internal/id_buffer.h"

#include <algorithm>
#include <limits>

namespace snowflake::client::internal {

IdBuffer::IdBuffer(int slots, int64_t capacity, int64_t guard)
    : capacity_(capacity), guard_(guard) {
  // Stale at any time (with room for the guard below it): TryTake stops
  // before touching its index.
  empty_.expires.store(std::numeric_limits<int64_t>::min() / 2);
  slots_.reserve(static_cast<size_t>(slots));
  for (int i = 0; i < slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->ids = std::make_unique<std::atomic<uint64_t>[]>(
        static_cast<size_t>(capacity));
    slots_.push_back(std::move(slot));
  }
  MutexLock lock(&mu_);
  for (int i = slots - 1; i >= 0; --i) free_.push_back(i);
}

void IdBuffer::Close(int slot, int64_t now) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  const uint64_t size = s.size.load(std::memory_order_relaxed);
  const uint64_t claimed =
      std::min(s.next.exchange(kClosed, std::memory_order_acq_rel), size);
  if (now >= s.expires.load(std::memory_order_relaxed)) {
    dropped_stale_ += size - claimed;
  }
  free_.push_back(slot);
}

bool IdBuffer::Advance(int64_t now) {
  MutexLock lock(&mu_);
  if (current_index_ >= 0) {
    Slot& s = *slots_[static_cast<size_t>(current_index_)];
    if (s.next.load(std::memory_order_acquire) <
            s.size.load(std::memory_order_relaxed) &&
        now < s.expires.load(std::memory_order_relaxed)) {
      return true;
    }
    current_.store(&empty_, std::memory_order_release);
    Close(current_index_, now);
    current_index_ = -1;
  }
  while (!queued_.empty()) {
    const int slot = queued_.front();
    queued_.pop_front();
    Slot& s = *slots_[static_cast<size_t>(slot)];
    if (now >= s.expires.load(std::memory_order_relaxed)) {
      Close(slot, now);
      continue;
    }
    current_index_ = slot;
    current_.store(&s, std::memory_order_release);
    return true;
  }
  return false;
}

void IdBuffer::DropStale(int64_t now) {
  MutexLock lock(&mu_);
  while (!queued_.empty() &&
         now >= slots_[static_cast<size_t>(queued_.front())]->expires.load(
                    std::memory_order_relaxed)) {
    Close(queued_.front(), now);
    queued_.pop_front();
  }
}

std::optional<int> IdBuffer::Reserve() {
  MutexLock lock(&mu_);
  if (free_.empty()) return std::nullopt;
  const int slot = free_.back();
  free_.pop_back();
  return slot;
}

void IdBuffer::Write(int slot, const std::vector<uint64_t>& ids,
                     int64_t expires) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  const size_t n = std::min(ids.size(), static_cast<size_t>(capacity_));
  // The seqlock's writer: odd while the slot changes, so that a taker that
  // still holds the slot from its last life drops what it read.
  const uint64_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < n; ++i) {
    s.ids[i].store(ids[i], std::memory_order_relaxed);
  }
  s.size.store(n, std::memory_order_relaxed);
  s.expires.store(expires, std::memory_order_relaxed);
  s.next.store(0, std::memory_order_release);
  s.seq.store(seq + 2, std::memory_order_release);
}

void IdBuffer::Publish(int slot) {
  MutexLock lock(&mu_);
  queued_.push_back(slot);
}

void IdBuffer::Unreserve(int slot) {
  MutexLock lock(&mu_);
  free_.push_back(slot);
}

int IdBuffer::Queued(int64_t now) const {
  MutexLock lock(&mu_);
  int fresh = 0;
  for (int slot : queued_) {
    fresh += now < slots_[static_cast<size_t>(slot)]->expires.load(
                       std::memory_order_relaxed);
  }
  return fresh;
}

uint64_t IdBuffer::dropped_stale() const {
  MutexLock lock(&mu_);
  return dropped_stale_;
}

}  // namespace snowflake::client::internal
