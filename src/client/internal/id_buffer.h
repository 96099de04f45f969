// The IDs fetched ahead for Client::Next(): a fixed ring of batch slots,
// each with its expiry. Handing out an ID is lock-free: one atomic index
// per batch, claimed with fetch_add, and a sequence number per slot (a
// seqlock) that makes a thread drop its claim if the slot was refilled
// under it, so no ID is ever handed out twice. Time is passed in.
//
// A slot's life: free -> written (by the one producer, Reserve and Write)
// -> queued (Publish) -> current (Advance) -> closed and free again (used
// up, or stale: its remaining IDs are dropped and counted).
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_ID_BUFFER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_ID_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "src/base/mutex.h"

namespace snowflake::client::internal {

// Thread-safe. TryTake may run on any number of threads; Reserve, Write and
// Publish on one producer thread at a time; Advance and the rest anywhere.
class IdBuffer {
 public:
  // `slots` batches (at least 2) of at most `capacity` IDs each; `guard`
  // as for TryTake.
  IdBuffer(int slots, int64_t capacity, int64_t guard = 0);
  IdBuffer(const IdBuffer&) = delete;
  IdBuffer& operator=(const IdBuffer&) = delete;

  // The hot path: an ID of the current batch, if it has one left and the
  // time is before its expiry. `coarse_now` is a cheap reading that may lag
  // the time: it decides alone only while it is at least `guard` (the
  // constructor's) before the expiry; closer, `precise_now()` decides.
  // False when there is none (used up, stale, no batch yet, or lost to a
  // refill of the slot): call Advance.
  template <typename PreciseNow>
  bool TryTake(int64_t coarse_now, const PreciseNow& precise_now,
               uint64_t& id) {
    Slot& slot = *current_.load(std::memory_order_acquire);
    const uint64_t seq = slot.seq.load(std::memory_order_acquire);
    if ((seq & 1) != 0) return false;
    const int64_t expires = slot.expires.load(std::memory_order_relaxed);
    if (coarse_now >= expires - guard_ && precise_now() >= expires) {
      return false;
    }
    const uint64_t size = slot.size.load(std::memory_order_relaxed);
    const uint64_t i = slot.next.fetch_add(1, std::memory_order_acq_rel);
    if (i >= size) return false;
    const uint64_t value = slot.ids[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // Refilled since `seq`: the value may be of the new batch, whose own
    // claim of index i hands it out. Drop it (a gap, never a repeat).
    if (slot.seq.load(std::memory_order_relaxed) != seq) return false;
    id = value;
    return true;
  }
  // The same with an exact `now`.
  bool TryTake(int64_t now, uint64_t& id) {
    return TryTake(
        now, [now] { return now; }, id);
  }

  // Closes the current batch if it is used up or stale at `now` and makes
  // the oldest queued batch that is not stale current, closing the stale
  // ones on the way. True if the current batch may have IDs left.
  bool Advance(int64_t now);

  // Closes the queued batches that are stale at `now` (batches queue in
  // the order they were fetched: the stale ones are the first).
  void DropStale(int64_t now);

  // A free slot for Write, or nullopt if none is.
  std::optional<int> Reserve();
  // Fills reserved slot `slot` with `ids` (1 to `capacity`), expiring at
  // `expires` (TryTake hands out none at or after it).
  void Write(int slot, const std::vector<uint64_t>& ids, int64_t expires);
  // Queues a written slot behind the others.
  void Publish(int slot);
  // Gives back a reserved slot that was not written.
  void Unreserve(int slot);

  // Queued batches not stale at `now`, the current one not included.
  int Queued(int64_t now) const;
  // IDs dropped because their batch went stale.
  uint64_t dropped_stale() const;

 private:
  // The index of a closed slot: above any size, and never reaches 2^64
  // however many late fetch_adds land on it.
  static constexpr uint64_t kClosed = uint64_t{1} << 62;

  struct alignas(64) Slot {
    // Odd while the producer writes the slot.
    std::atomic<uint64_t> seq{0};
    std::atomic<int64_t> expires{0};
    std::atomic<uint64_t> size{0};
    // On a line of its own: every taker writes it.
    alignas(64) std::atomic<uint64_t> next{kClosed};
    std::unique_ptr<std::atomic<uint64_t>[]> ids;
  };

  // Stops `slot` handing out IDs and counts what it drops if stale.
  void Close(int slot, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t capacity_;
  const int64_t guard_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Slot empty_;  // Current while there is no batch: never has IDs.
  std::atomic<Slot*> current_{&empty_};

  mutable Mutex mu_;
  int current_index_ ABSL_GUARDED_BY(mu_) = -1;
  std::deque<int> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<int> free_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_stale_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_ID_BUFFER_H_
