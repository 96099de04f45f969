// How many CPUs this process may run on.
#ifndef SNOWFLAKE_SRC_BASE_CPUS_H_
#define SNOWFLAKE_SRC_BASE_CPUS_H_

namespace snowflake::base {

// The CPUs in this process's affinity mask (taskset, systemd's
// CPUAffinity=, a container's cpuset), not the machine's core count;
// the machine's when the mask cannot be read. At least 1.
int CpusAllowed();

}  // namespace snowflake::base

#endif  // SNOWFLAKE_SRC_BASE_CPUS_H_
