// What `snowflake cluster` and its subcommands share: flag checks (the
// connection itself: cluster_store.h), one-line failures and reading the
// stored config.
#ifndef SNOWFLAKE_CLI_INTERNAL_CLUSTER_UTIL_H_
#define SNOWFLAKE_CLI_INTERNAL_CLUSTER_UTIL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/commands.h"

namespace snowflake::cli::internal {

// Writes "snowflake: <command>: <message>" as one line to the error stream
// and returns `exit_code`.
int Fail(Io& io, std::string_view command, int exit_code,
         std::string_view message);

// Checks the shared flags (exactly one of --etcd and --zookeeper, and only
// that coordinator's connection flags) and strips trailing slashes from the
// prefix. Returns kExitOk, or kExitUsage after one line on the error stream.
int CheckClusterFlags(ClusterFlags& flags, std::string_view command, Io& io);

// "etcd" or "ZooKeeper": the coordinator `flags` name.
std::string_view CoordinatorName(const ClusterFlags& flags);

// After OpenStore failed: kExitUsage for a bad address or credentials format
// (kInvalidArgument), else kExitBadData with "<doing> <coordinator>: <why>";
// one line on the error stream either way.
int FailToOpen(Io& io, std::string_view command, const ClusterFlags& flags,
               std::string_view doing, const absl::Status& status);

// The worker bits of a stored config, whatever its shape: the schema's text
// ("41/10/12 unit=1ms ...", with or without fields after it), or a JSON
// object with "worker_bits" or a "layout" text. nullopt when it has none.
std::optional<int> WorkerBitsOfConfig(const std::string& value);

// `rows` (the first is the header) as aligned columns, two spaces apart,
// one line each; the last column is not padded.
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows);

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_CLUSTER_UTIL_H_
