// The key space a cluster keeps in etcd (DESIGN section 5), shared by the
// etcd lease and the `snowflake cluster` command:
//
//   <prefix>/<cluster>/config         layout and epoch, written once
//   <prefix>/<cluster>/workers/<id>   the holder of worker ID <id> (JSON),
//                                     bound to the holder's etcd lease
//   <prefix>/<cluster>/hwm/<id>       that ID's high-water mark, Unix ms
//   <prefix>/<cluster>/nodes/<name>   discovery: a node's worker ID and
//                                     addresses (JSON), bound to its lease
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_SCHEMA_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace snowflake::etcd_schema {

inline constexpr char kDefaultPrefix[] = "/snowflake";

// What a node writes about itself under workers/<id> and nodes/<name>.
struct Holder {
  std::string node;
  int64_t worker_id = -1;
  std::vector<std::string> addresses;
  std::string region;
  int64_t start_unix_millis = 0;
  int64_t lease = 0;  // The etcd lease the entry is bound to.
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

}  // namespace snowflake::etcd_schema

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_SCHEMA_H_
