// The command-line flags that name a cluster's coordinator and how to reach
// it, declared once for every command that reads one (`snowflake cluster`,
// `snowflake get`), so that their names, help and defaults agree.
#ifndef SNOWFLAKE_CLI_INTERNAL_COORDINATOR_FLAGS_H_
#define SNOWFLAKE_CLI_INTERNAL_COORDINATOR_FLAGS_H_

#include "src/cli/cluster_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace snowflake::cli::internal {

// --etcd, --zookeeper (each excluding the other), --zookeeper-auth,
// --cluster and --prefix (--root), filling `flags` (which must outlive
// the parse).
void AddCoordinatorFlags(CLI::App& command, ClusterFlags& flags);

// etcd's TLS files and credentials (--ca, --cert, --key, --user,
// --password) and --timeout-ms.
void AddConnectionFlags(CLI::App& command, ClusterFlags& flags);

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_COORDINATOR_FLAGS_H_
