// A counter that many threads add to on a hot path without sharing a cache
// line: each thread adds to one of a few shards, a reader sums them.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_SHARDED_COUNTER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_SHARDED_COUNTER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace snowflake::client::internal {

// Thread-safe. Sum() is exact once the adds it should see have returned.
class ShardedCounter {
 public:
  void Add(uint64_t n) {
    shards_[ThreadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Sum() const {
    uint64_t sum = 0;
    for (const Shard& shard : shards_) {
      sum += shard.value.load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  static constexpr size_t kShards = 32;
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };

  // Threads take shards in the order they first add: distinct for the
  // first kShards threads of the process.
  static size_t ThreadShard() {
    static std::atomic<size_t> threads{0};
    thread_local const size_t shard = threads.fetch_add(1) % kShards;
    return shard;
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_SHARDED_COUNTER_H_
