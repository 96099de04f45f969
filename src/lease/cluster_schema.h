// The tree a cluster keeps on its coordinator (docs/operations.md), the
// same for etcd (keys) and ZooKeeper (znodes), shared by both leases and the
// `snowflake cluster` command:
//
//   <prefix>/<cluster>/config         layout, epoch and region map, written
//                                     once (EncodeClusterConfig)
//   <prefix>/<cluster>/workers/<id>   the holder of worker ID <id> (JSON),
//                                     bound to the holder's session (etcd
//                                     lease; ZooKeeper: ephemeral znode)
//   <prefix>/<cluster>/hwm/<id>       that ID's high-water mark, Unix ms
//   <prefix>/<cluster>/nodes/<name>   discovery: a node's worker ID and
//                                     addresses (JSON), bound likewise
//
// The prefix is etcd's key prefix or ZooKeeper's root znode (under the
// connection string's chroot, if any).
#ifndef SNOWFLAKE_SRC_LEASE_CLUSTER_SCHEMA_H_
#define SNOWFLAKE_SRC_LEASE_CLUSTER_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/layout.h"
#include "src/lease/region_map.h"

namespace snowflake::cluster_schema {

// The prefix clusters live under unless configured otherwise (snowflaked's
// etcd.prefix, `snowflake cluster --prefix`): the one place it is written.
inline constexpr char kDefaultPrefix[] = "/snowflake";

// What a node writes about itself under workers/<id> and nodes/<name>.
struct Holder {
  std::string node;
  int64_t worker_id = -1;
  std::vector<std::string> addresses;
  std::string region;
  int64_t start_unix_millis = 0;
  // The session the entry is bound to: etcd lease ID, ZooKeeper session ID.
  int64_t lease = 0;
};

// Key builders. `prefix` has no trailing slash ("/snowflake").
std::string ClusterPrefix(const std::string& prefix,
                          const std::string& cluster);
std::string ConfigKey(const std::string& prefix, const std::string& cluster);
std::string WorkersPrefix(const std::string& prefix,
                          const std::string& cluster);
std::string WorkerKey(const std::string& prefix, const std::string& cluster,
                      int64_t worker_id);
std::string HwmPrefix(const std::string& prefix, const std::string& cluster);
std::string HwmKey(const std::string& prefix, const std::string& cluster,
                   int64_t worker_id);
std::string NodesPrefix(const std::string& prefix, const std::string& cluster);
std::string NodeKey(const std::string& prefix, const std::string& cluster,
                    const std::string& node);

// The worker ID at the end of a workers/ or hwm/ key; nullopt if the key
// does not end in a decimal number.
std::optional<int64_t> IdOfKey(const std::string& key);

// JSON text of a Holder, and back. Errors: kDataLoss naming the text.
std::string EncodeHolder(const Holder& holder);
absl::StatusOr<Holder> DecodeHolder(const std::string& json);

// The value of an hwm/ key. Errors: kDataLoss naming the text.
std::string EncodeHwm(int64_t unix_millis);
absl::StatusOr<int64_t> DecodeHwm(const std::string& text);

// The value of the config key, what every node of the cluster must agree
// on. The text is versioned by its fields:
//
//   LAYOUT[; NAME=VALUE]...
//
// LAYOUT is Layout::ToString() ("41/10/12 unit=1ms epoch=1735689600000");
// the first version of the schema stored it alone. Fields added since follow
// it, each "; NAME=VALUE" (NAME of [a-z0-9_], VALUE without ';'):
//
//   regions=eu=342-683,us=0-341   the region map, RegionMap::ToString();
//                                 written only when the map is not empty
//
// So a cluster without regions keeps exactly the first version's text, and
// old values decode with no regions. A field is added only with a new
// meaning that a node must not ignore: decoders refuse names they do not
// know, so an older node never joins a cluster it does not fully understand.
struct ClusterConfig {
  std::string layout;   // Layout::ToString() text.
  std::string regions;  // RegionMap::ToString(); empty when none.

  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

// The stored text of a cluster's config: the layout's text alone when
// `regions` is empty, else "LAYOUT; regions=MAP".
std::string EncodeClusterConfig(const Layout& layout, const RegionMap& regions);

// Splits a stored config back into its fields; the region map comes back in
// canonical form (RegionMap::ToString()). The layout text is returned as
// stored, not parsed: compare it with Layout::ToString(). Errors: kDataLoss
// naming the text when it is empty, a field is malformed or the region map
// does not parse; kFailedPrecondition naming the field when it has a name
// this version does not know (written by a newer version).
absl::StatusOr<ClusterConfig> DecodeClusterConfig(const std::string& text);

}  // namespace snowflake::cluster_schema

#endif  // SNOWFLAKE_SRC_LEASE_CLUSTER_SCHEMA_H_
