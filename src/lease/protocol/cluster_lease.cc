#include "src/lease/protocol/cluster_lease.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/protocol/timing.h"

namespace snowflake {
namespace {

lease_protocol::CoordinatedLeaseOptions ProtocolOptions(
    const ClusterLeaseOptions& options) {
  lease_protocol::CoordinatedLeaseOptions protocol;
  protocol.cluster = options.cluster;
  protocol.range_first = options.range_first;
  protocol.range_last = options.range_last;
  protocol.ttl_seconds = options.ttl_seconds;
  protocol.holder.node = options.node_name;
  protocol.holder.addresses = options.addresses;
  protocol.holder.region = options.region;
  protocol.state_dir = options.state_dir;
  protocol.slot = options.slot;
  protocol.max_clock_skew_millis = options.max_clock_skew_millis;
  protocol.config =
      cluster_schema::EncodeClusterConfig(options.layout, options.regions);
  return protocol;
}

}  // namespace

int64_t ClusterLease::SafetyMarginMillis(int64_t ttl_seconds) {
  return lease_protocol::SafetyMarginMillis(ttl_seconds * 1000);
}

int64_t ClusterLease::TakeoverWaitMillis(int64_t ttl_seconds,
                                         int64_t max_clock_skew_millis) {
  return lease_protocol::TakeoverWaitMillis(ttl_seconds * 1000,
                                            max_clock_skew_millis);
}

std::chrono::milliseconds ClusterLease::CallTimeout(int64_t ttl_seconds) {
  return std::chrono::milliseconds(
      std::clamp<int64_t>(ttl_seconds * 1000 / 6, 200, 2000));
}

absl::Status ClusterLease::CheckOptions(const ClusterLeaseOptions& options) {
  if (options.range_first < 0 || options.range_last < options.range_first ||
      options.range_last > options.layout.max_worker()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker range ", options.range_first, "-", options.range_last,
        " must lie within 0-", options.layout.max_worker(),
        " (the layout's worker bits)"));
  }
  if (options.ttl_seconds < 1 || options.ttl_seconds > 3600) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease TTL must be 1 to 3600 s, got ", options.ttl_seconds));
  }
  if (options.node_name.empty()) {
    return absl::InvalidArgumentError("node name must not be empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ClusterLease>> ClusterLease::Create(
    ClusterLeaseOptions options,
    std::unique_ptr<lease_protocol::Coordinator> coordinator,
    LeaseClock& clock) {
  if (absl::Status status = CheckOptions(options); !status.ok()) {
    return status;
  }
  return std::unique_ptr<ClusterLease>(
      new ClusterLease(std::move(options), std::move(coordinator), clock));
}

ClusterLease::ClusterLease(
    ClusterLeaseOptions options,
    std::unique_ptr<lease_protocol::Coordinator> coordinator, LeaseClock& clock)
    : options_(std::move(options)),
      coordinator_(std::move(coordinator)),
      protocol_(
          [this] {
            lease_protocol::CoordinatedLeaseOptions protocol =
                ProtocolOptions(options_);
            protocol.check_config = [this](const std::string& stored) {
              return CheckClusterConfig(stored);
            };
            return protocol;
          }(),
          *coordinator_, clock) {}

ClusterLease::~ClusterLease() = default;

absl::Status ClusterLease::CheckClusterConfig(const std::string& stored) const {
  const std::string where = coordinator_->DescribeConfig();
  auto have = cluster_schema::DecodeClusterConfig(stored);
  if (!have.ok()) return have.status();
  const std::string layout = options_.layout.ToString();
  if (have->layout != layout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster \"", options_.cluster, "\" (", where,
        ") was created with layout ", have->layout,
        ", but this node has layout ", layout,
        ". A cluster's layout and epoch are fixed for life: fix --layout, "
        "--epoch or --unit-ms, or use another --cluster"));
  }
  const std::string regions = options_.regions.ToString();
  if (have->regions != regions) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster \"", options_.cluster, "\" (", where,
                     ") was created with region map \"",
                     have->regions.empty() ? "none" : have->regions,
                     "\", but this node has region map \"",
                     regions.empty() ? "none" : regions,
                     "\". Every node of a cluster must carry the same map: fix "
                     "[regions] / --regions"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LeaseGrant> ClusterLease::Acquire() {
  return protocol_.Acquire();
}

bool ClusterLease::Valid() const { return protocol_.Valid(); }

bool ClusterLease::AwaitTakeover() { return protocol_.AwaitTakeover(); }

bool ClusterLease::Lost() const { return protocol_.Lost(); }

absl::Status ClusterLease::Release() { return protocol_.Release(); }

LeaseInfo ClusterLease::Info() const { return protocol_.Info(); }

}  // namespace snowflake
