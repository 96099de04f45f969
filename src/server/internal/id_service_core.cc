#include "src/server/internal/id_service_core.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "snowflake/status.h"
#include "src/base/strings.h"
#include "src/server/internal/rpc_error.h"

namespace snowflake::internal {

using base::Cat;

IdServiceCore::IdServiceCore(IdServiceOptions options, const Node& node,
                             Metrics& metrics)
    : options_(std::move(options)), node_(node), metrics_(metrics) {}

absl::Status IdServiceCore::CheckCount(std::string_view field,
                                       uint64_t count) const {
  if (count == 0) {
    return absl::InvalidArgumentError(Cat(field, " must be at least 1, got 0"));
  }
  if (count > static_cast<uint64_t>(options_.max_batch)) {
    return absl::OutOfRangeError(Cat(field, " ", count,
                                     " is above the largest batch, ",
                                     options_.max_batch, " (--max-batch)"));
  }
  return absl::OkStatus();
}

absl::Status IdServiceCore::NextIds(uint64_t count,
                                    v1::NextIdsResponse& response) {
  if (absl::Status s = CheckCount("count", count); !s.ok()) return s;
  // The bound HTTP's wait pool keeps: past it a request is refused at once
  // (retry) rather than queued behind seconds of sequence. One request of
  // any size is admitted when nothing else is being issued.
  const int64_t bound = std::max(options_.max_waiting_ids, options_.max_batch);
  const int64_t n = static_cast<int64_t>(count);
  const int64_t before = issuing_ids_.fetch_add(n);
  if (before > 0 && before + n > bound) {
    issuing_ids_.fetch_sub(n);
    // Retry once what is being issued now is out, at the layout's full rate.
    const Layout& layout = node_.layout();
    const int64_t ids_per_tick = int64_t{1} << layout.sequence_bits();
    const int64_t wait_ms =
        std::max<int64_t>((before + ids_per_tick - 1) / ids_per_tick, 1) *
        layout.unit_millis();
    return MakeError(
        absl::StatusCode::kUnavailable, ErrorKind::kWouldWait,
        Cat("busy: ", before, " IDs are being issued already, ",
            "more than the node issues in a second (", bound, "); retry"),
        std::nullopt, wait_ms);
  }
  absl::Status s = Issue(count, response);
  issuing_ids_.fetch_sub(n);
  return s;
}

absl::Status IdServiceCore::Issue(uint64_t count,
                                  v1::NextIdsResponse& response) {
  // The node may retire its generation at any moment (lease lost): the one
  // held here stays alive but refuses.
  auto issuing = node_.IssuingGeneration();
  if (!issuing.ok()) return issuing.status();
  const std::shared_ptr<const Generation> generation = *std::move(issuing);
  Generator& generator = *generation->generator;
  google::protobuf::RepeatedField<uint64_t>& ids = *response.mutable_ids();
  ids.Resize(static_cast<int>(count), 0);
  uint64_t* out = ids.mutable_data();
  uint64_t issued = 0;
  while (issued < count) {
    auto run = generator.NextRun(static_cast<uint32_t>(count - issued));
    if (!run.ok()) {
      // IDs of earlier runs are abandoned: never sent, never reissued.
      ids.Clear();
      return run.status();
    }
    for (uint32_t i = 0; i < run->count; ++i) out[issued + i] = run->first + i;
    issued += run->count;
  }
  if (!node_.StillIssuing(*generation)) {
    // The worker ID was lost while these were taken: drop them (they are
    // never issued again) rather than hand out IDs of a claim now gone.
    ids.Clear();
    return absl::UnavailableError(
        "node lost its worker ID while issuing; retry (another node, or "
        "this one once it has acquired again)");
  }
  const Layout& layout = node_.layout();
  const absl::StatusOr<IdParts> first = layout.Decompose(out[0]);
  const absl::StatusOr<IdParts> last = layout.Decompose(out[count - 1]);
  if (!first.ok() || !last.ok()) {
    ids.Clear();
    return absl::InternalError("the generator issued an ID the layout refuses");
  }
  response.set_worker_id(generator.worker_id());
  response.set_first_tick(first->tick);
  response.set_last_tick(last->tick);
  metrics_.AddIdsIssued(count);
  return absl::OkStatus();
}

absl::Status IdServiceCore::Decode(const v1::DecodeRequest& request,
                                   v1::DecodeResponse& response) const {
  uint64_t id = 0;
  switch (request.id_case()) {
    case v1::DecodeRequest::kValue:
      if (!request.encoding().empty()) {
        return absl::InvalidArgumentError(
            "encoding applies to text; value is the ID itself");
      }
      id = request.value();
      break;
    case v1::DecodeRequest::kText: {
      Encoding encoding = Encoding::kDecimal;
      if (!request.encoding().empty()) {
        absl::StatusOr<Encoding> parsed = ParseEncodingName(request.encoding());
        if (!parsed.ok()) return parsed.status();
        encoding = *parsed;
      }
      absl::StatusOr<uint64_t> parsed = ParseId(request.text(), encoding);
      if (!parsed.ok()) return parsed.status();
      id = *parsed;
      break;
    }
    case v1::DecodeRequest::ID_NOT_SET:
      return absl::InvalidArgumentError(
          "set value (the ID) or text (the ID in an encoding)");
  }
  const Layout& layout = node_.layout();
  absl::StatusOr<IdParts> parts = layout.Decompose(id);
  if (!parts.ok()) return parts.status();
  const int64_t millis = layout.MillisOfTick(parts->tick);
  response.set_id(id);
  response.set_time_ms(millis);
  response.set_time(FormatRfc3339Millis(millis));
  response.set_tick(parts->tick);
  response.set_worker(parts->worker);
  response.set_sequence(parts->sequence);
  response.set_layout(layout.ToString());
  auto& encodings = *response.mutable_encodings();
  for (Encoding e : AllEncodings()) {
    encodings[std::string(EncodingName(e))] = EncodeId(id, e);
  }
  for (const auto& [name, range] : options_.regions.regions()) {
    if (range.Contains(parts->worker)) response.set_region(name);
  }
  return absl::OkStatus();
}

void IdServiceCore::Info(v1::InfoResponse& response) const {
  const NodeStatus s = node_.Status();
  // An operator's names may be any bytes; proto3 strings may not.
  response.set_node(base::ToValidUtf8(s.name));
  response.set_cluster(base::ToValidUtf8(s.cluster));
  response.set_region(base::ToValidUtf8(s.region));
  response.set_mode(s.lease.mode);
  response.set_worker_id(s.started ? s.lease.worker_id : -1);
  for (const WorkerStatus& worker : s.workers) {
    if (worker.started) response.add_worker_ids(worker.lease.worker_id);
  }
  response.set_workers_wanted(static_cast<int32_t>(s.workers.size()));
  response.set_ready(s.ready);
  response.set_not_ready_reason(base::ToValidUtf8(s.not_ready_reason));
  response.set_layout(s.layout.ToString());
  response.set_version(options_.version);
}

}  // namespace snowflake::internal
