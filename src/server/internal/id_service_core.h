// The calls of gRPC's snowflake.v1.IdService (proto/snowflake/v1/
// id_service.proto) as pure functions of the node: a request message in, a
// response message or an absl::Status out, without gRPC. The server
// (src/server/grpc_service.cc) only moves them between the wire and these.
// IDs come from the node exactly as HttpHandler takes them: CheckCanIssue,
// the current generation, its generator, then StillIssuing.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_ID_SERVICE_CORE_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_ID_SERVICE_CORE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "snowflake/v1/id_service.pb.h"
#include "src/lease/region_map.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake::internal {

struct IdServiceOptions {
  // The largest count of NextIds and batch of StreamIds (--max-batch).
  int64_t max_batch = limits::kDefaultMaxBatch;
  // The most IDs being issued over gRPC at once (HttpHandler::MaxWaitingIds
  // for the node's layout); never below max_batch.
  int64_t max_waiting_ids = 0;
  std::string version;  // For Info.
  RegionMap regions;    // For Decode's region; empty: none.
};

// Thread safety: every method may be called from any number of threads at
// once. The node and metrics must outlive it. Not copyable.
class IdServiceCore {
 public:
  IdServiceCore(IdServiceOptions options, const Node& node, Metrics& metrics);
  IdServiceCore(const IdServiceCore&) = delete;
  IdServiceCore& operator=(const IdServiceCore&) = delete;

  // OK if `count` (the request's field named `field`) is 1 to max_batch.
  // Errors: kInvalidArgument for 0, kOutOfRange above max_batch, each
  // naming the field, the value and the limit.
  absl::Status CheckCount(std::string_view field, uint64_t count) const;

  // Fills `response` with `count` new IDs (checked by CheckCount first),
  // strictly increasing, all of one worker ID, with that ID and the ticks
  // of the first and the last, and counts them as issued. May sleep until
  // the clock reaches the next tick (a batch beyond what is left of the
  // current one). Errors, with nothing issued (IDs already taken are
  // abandoned, never issued again): kUnavailable when a retry can succeed
  // (the node starting, shutting down or re-acquiring its worker ID, the ID
  // lost while issuing, the clock behind, the HWM not extended, or busy:
  // more than max_waiting_ids being issued at once, with the wait as its
  // retry delay), kFailedPrecondition when none can (the layout's time
  // range used up, the clock before the epoch).
  absl::Status NextIds(uint64_t count, v1::NextIdsResponse& response);

  // The fields of the request's ID under the node's layout, as /v1/decode
  // gives them, and the region of `regions` holding its worker ID. Errors:
  // kInvalidArgument when no ID is set, the text does not parse in the
  // encoding, the encoding is unknown or given with a numeric value, or the
  // ID does not fit the layout.
  absl::Status Decode(const v1::DecodeRequest& request,
                      v1::DecodeResponse& response) const;

  // The essentials of /v1/info. Never fails.
  void Info(v1::InfoResponse& response) const;

  // The IDs being issued now (for tests and the busy bound).
  int64_t issuing_ids() const { return issuing_ids_.load(); }

 private:
  // Takes the IDs once admitted under the busy bound.
  absl::Status Issue(uint64_t count, v1::NextIdsResponse& response);

  const IdServiceOptions options_;
  const Node& node_;
  Metrics& metrics_;
  std::atomic<int64_t> issuing_ids_{0};
};

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_ID_SERVICE_CORE_H_
