// A small program using the snowflake client library: takes IDs one at a
// time (from the buffer the client keeps filled) and in a batch, decodes
// them with the default layout, and prints the client's counters.
//
//   example_client http://127.0.0.1:8081 http://127.0.0.1:8082
//   example_client --etcd http://127.0.0.1:2379 --cluster demo
//
// Build: link the CMake target snowflake::client (docs/client.md).
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/client.h"
#include "snowflake/layout.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: example_client URL...\n"
               "       example_client --etcd URL[,URL...] [--cluster NAME]\n");
  return 2;
}

// "1234 worker 3 sequence 17 time_ms 1735689600123"
void PrintId(const char* what, uint64_t id) {
  const snowflake::Layout layout;  // The default: 41/10/12, ms since 2025.
  absl::StatusOr<snowflake::IdParts> parts = layout.Decompose(id);
  if (!parts.ok()) {
    std::printf("%s %" PRIu64 " (not of the default layout)\n", what, id);
    return;
  }
  std::printf("%s %" PRIu64 " worker %" PRId64 " sequence %" PRId64
              " time_ms %" PRId64 "\n",
              what, id, parts->worker, parts->sequence,
              layout.MillisOfTick(parts->tick));
}

}  // namespace

int main(int argc, char** argv) {
  snowflake::ClientOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--etcd" && i + 1 < argc) {
      options.discovery.etcd_endpoints.push_back(argv[++i]);
    } else if (arg == "--cluster" && i + 1 < argc) {
      options.discovery.cluster = argv[++i];
    } else if (arg.starts_with("-")) {
      return Usage();
    } else {
      options.endpoints.push_back(arg);
    }
  }
  if (options.endpoints.empty() && options.discovery.etcd_endpoints.empty()) {
    return Usage();
  }

  // Create checks the options and, with --etcd, finds the nodes.
  absl::StatusOr<std::unique_ptr<snowflake::Client>> client =
      snowflake::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "example_client: %s\n",
                 client.status().ToString().c_str());
    return 1;
  }

  // One at a time: the first waits for a batch, the rest come from the
  // buffer in nanoseconds.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> id = (*client)->Next();
    if (!id.ok()) {
      std::fprintf(stderr, "example_client: %s\n",
                   id.status().ToString().c_str());
      return 1;
    }
    PrintId("next", *id);
  }

  // Many in one request to one node, never from the buffer.
  absl::StatusOr<std::vector<uint64_t>> batch = (*client)->NextBatch(1000);
  if (!batch.ok()) {
    std::fprintf(stderr, "example_client: %s\n",
                 batch.status().ToString().c_str());
    return 1;
  }
  std::printf("batch %zu ids, first %" PRIu64 " last %" PRIu64 "\n",
              batch->size(), batch->front(), batch->back());

  const snowflake::ClientStats stats = (*client)->Stats();
  std::printf("stats nodes %" PRIu64 " hits %" PRIu64 " misses %" PRIu64
              " refills %" PRIu64 " failovers %" PRIu64
              " dropped_stale %" PRIu64 " errors %" PRIu64 "\n",
              stats.nodes, stats.buffer_hits, stats.buffer_misses,
              stats.refills, stats.failovers, stats.dropped_stale,
              stats.errors);
  return 0;
}
