// client_bench: bench/run's measure of the client library against one node
// (section 9): one thread calls Client::Next() (prefetch on, the library's
// defaults) in a loop for WARMUP seconds, not counted (the refill size
// grows with the observed rate), then for SECONDS, counted.
//
//   client_bench http://127.0.0.1:PORT SECONDS WARMUP_SECONDS
//
// Prints one line, "client_result" and key=value pairs: ids, seconds and
// ids_per_s of the counted part; buffer_ns, the median time of one Next()
// over the blocks of kBlock calls in which no call waited for a refill (the
// client's buffer_misses did not move), and buffer_blocks, how many such
// blocks there were (of `blocks`); the client's counters over the counted
// part, as ClientStats names them (buffer_hits, buffer_misses, refills,
// dropped_stale, requests, failovers); errors, calls that failed; and
// out_of_order, IDs not above the one before (a node issues increasing IDs,
// and one client's buffer hands them out in order). Exits 1 on a failed
// call or on an ID out of order, after printing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/client.h"

namespace {

using Clock = std::chrono::steady_clock;

// Calls per timed block: two clock reads and two Stats() per block cost a
// small fraction of a nanosecond per call.
constexpr int kBlock = 1024;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(mid), v.end());
  return v[mid];
}

struct Totals {
  uint64_t ids = 0;
  uint64_t errors = 0;
  uint64_t out_of_order = 0;
  uint64_t blocks = 0;
  std::vector<double> buffer_ns;  // Per call, of each block without a miss.
};

// Calls Next() in blocks of kBlock until `end`; counts into `totals` when
// `count` (the warm-up only checks).
void Run(snowflake::Client& client, Clock::time_point end, bool count,
         uint64_t& last, Totals& totals) {
  while (Clock::now() < end) {
    const uint64_t misses_before = client.Stats().buffer_misses;
    const Clock::time_point start = Clock::now();
    uint64_t errors = 0;
    uint64_t out_of_order = 0;
    for (int i = 0; i < kBlock; ++i) {
      absl::StatusOr<uint64_t> id = client.Next();
      if (!id.ok()) {
        if (errors++ == 0) {
          std::fprintf(stderr, "Next(): %s\n", id.status().ToString().c_str());
        }
        continue;
      }
      if (*id <= last) ++out_of_order;
      last = *id;
    }
    const Clock::duration took = Clock::now() - start;
    const uint64_t misses_after = client.Stats().buffer_misses;
    if (!count) continue;
    totals.ids += kBlock - errors;
    totals.errors += errors;
    totals.out_of_order += out_of_order;
    ++totals.blocks;
    if (misses_after == misses_before && errors == 0) {
      totals.buffer_ns.push_back(
          std::chrono::duration<double, std::nano>(took).count() / kBlock);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: client_bench http://HOST:PORT SECONDS "
                 "WARMUP_SECONDS\n");
    return 2;
  }
  const double seconds = std::atof(argv[2]);
  const double warmup = std::atof(argv[3]);
  if (seconds <= 0 || warmup < 0) {
    std::fprintf(stderr, "client_bench: bad SECONDS or WARMUP_SECONDS\n");
    return 2;
  }
  snowflake::ClientOptions options;
  options.endpoints = {argv[1]};
  absl::StatusOr<std::unique_ptr<snowflake::Client>> created =
      snowflake::Client::Create(std::move(options));
  if (!created.ok()) {
    std::fprintf(stderr, "client_bench: %s\n",
                 created.status().ToString().c_str());
    return 1;
  }
  snowflake::Client& client = **created;

  const auto to_duration = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(s));
  };
  uint64_t last = 0;
  Totals totals;
  Run(client, Clock::now() + to_duration(warmup), false, last, totals);
  const snowflake::ClientStats before = client.Stats();
  const Clock::time_point start = Clock::now();
  Run(client, start + to_duration(seconds), true, last, totals);
  const double elapsed = Seconds(Clock::now() - start);
  const snowflake::ClientStats after = client.Stats();

  std::printf(
      "client_result ids=%llu seconds=%.6f ids_per_s=%.1f buffer_ns=%.3f "
      "buffer_blocks=%zu blocks=%llu block=%d buffer_hits=%llu "
      "buffer_misses=%llu "
      "refills=%llu dropped_stale=%llu requests=%llu failovers=%llu "
      "errors=%llu out_of_order=%llu\n",
      static_cast<unsigned long long>(totals.ids), elapsed,
      static_cast<double>(totals.ids) / elapsed, Median(totals.buffer_ns),
      totals.buffer_ns.size(), static_cast<unsigned long long>(totals.blocks),
      kBlock,
      static_cast<unsigned long long>(after.buffer_hits - before.buffer_hits),
      static_cast<unsigned long long>(after.buffer_misses -
                                      before.buffer_misses),
      static_cast<unsigned long long>(after.refills - before.refills),
      static_cast<unsigned long long>(after.dropped_stale -
                                      before.dropped_stale),
      static_cast<unsigned long long>(after.requests - before.requests),
      static_cast<unsigned long long>(after.failovers - before.failovers),
      static_cast<unsigned long long>(totals.errors),
      static_cast<unsigned long long>(totals.out_of_order));
  return totals.errors == 0 && totals.out_of_order == 0 ? 0 : 1;
}
