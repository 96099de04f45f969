#include "src/lease/etcd/etcd_lease.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/lease/etcd/etcd_schema.h"
#include "src/lease/protocol/timing.h"

namespace snowflake {
namespace {

namespace schema = etcd_schema;

lease_protocol::CoordinatedLeaseOptions ProtocolOptions(
    const EtcdLeaseOptions &options) {
  lease_protocol::CoordinatedLeaseOptions protocol;
  protocol.cluster = options.cluster;
  protocol.range_first = options.range_first;
  protocol.range_last = options.range_last;
  protocol.ttl_seconds = options.ttl_seconds;
  protocol.holder.node = options.node_name;
  protocol.holder.addresses = options.addresses;
  protocol.holder.region = options.region;
  protocol.state_dir = options.state_dir;
  protocol.max_clock_skew_millis = options.max_clock_skew_millis;
  protocol.config =
      schema::EncodeClusterConfig(options.layout, options.regions);
  return protocol;
}

}  // namespace

int64_t EtcdLease::SafetyMarginMillis(int64_t ttl_seconds) {
  return lease_protocol::SafetyMarginMillis(ttl_seconds * 1000);
}

int64_t EtcdLease::TakeoverWaitMillis(int64_t ttl_seconds,
                                      int64_t max_clock_skew_millis) {
  return lease_protocol::TakeoverWaitMillis(ttl_seconds * 1000,
                                            max_clock_skew_millis);
}

absl::StatusOr<std::unique_ptr<EtcdLease>> EtcdLease::Create(
    EtcdLeaseOptions options, LeaseClock &clock) {
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
  // Every call must end well inside one keep-alive period.
  const auto per_call = std::chrono::milliseconds(
      std::clamp<int64_t>(options.ttl_seconds * 1000 / 6, 200, 2000));
  options.client.timeout = per_call;
  options.client.dial_timeout = per_call;
  auto coordinator = EtcdCoordinator::Create(options.client, options.prefix,
                                             options.cluster, clock);
  if (!coordinator.ok()) return coordinator.status();
  return std::unique_ptr<EtcdLease>(
      new EtcdLease(std::move(options), *std::move(coordinator), clock));
}

EtcdLease::EtcdLease(EtcdLeaseOptions options,
                     std::unique_ptr<EtcdCoordinator> coordinator,
                     LeaseClock &clock)
    : options_(std::move(options)),
      coordinator_(std::move(coordinator)),
      protocol_(
          [this] {
            lease_protocol::CoordinatedLeaseOptions protocol =
                ProtocolOptions(options_);
            protocol.check_config = [this](const std::string &stored) {
              return CheckClusterConfig(stored);
            };
            return protocol;
          }(),
          *coordinator_, clock) {}

EtcdLease::~EtcdLease() = default;

absl::Status EtcdLease::CheckClusterConfig(const std::string &stored) const {
  const std::string key = schema::ConfigKey(options_.prefix, options_.cluster);
  auto have = schema::DecodeClusterConfig(stored);
  if (!have.ok()) return have.status();
  const std::string layout = options_.layout.ToString();
  if (have->layout != layout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster \"", options_.cluster, "\" (etcd key ", key,
        ") was created with layout ", have->layout,
        ", but this node has layout ", layout,
        ". A cluster's layout and epoch are fixed for life: fix --layout, "
        "--epoch or --unit-ms, or use another --cluster"));
  }
  const std::string regions = options_.regions.ToString();
  if (have->regions != regions) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster \"", options_.cluster, "\" (etcd key ", key,
                     ") was created with region map \"",
                     have->regions.empty() ? "none" : have->regions,
                     "\", but this node has region map \"",
                     regions.empty() ? "none" : regions,
                     "\". Every node of a cluster must carry the same map: fix "
                     "[regions] / --regions"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LeaseGrant> EtcdLease::Acquire() { return protocol_.Acquire(); }

bool EtcdLease::Valid() const { return protocol_.Valid(); }

bool EtcdLease::AwaitTakeover() { return protocol_.AwaitTakeover(); }

bool EtcdLease::Lost() const { return protocol_.Lost(); }

absl::Status EtcdLease::Release() { return protocol_.Release(); }

LeaseInfo EtcdLease::Info() const { return protocol_.Info(); }

}  // namespace snowflake
