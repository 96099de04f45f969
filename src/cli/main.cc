// snowflake: decode, generate and inspect Snowflake IDs. All logic lives in
// cli.h / commands.h (and cluster_command.h, get_command.h); this file only
// wires in the process.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "snowflake/clock.h"
#include "src/cli/cli.h"
#include "src/cli/cluster_command.h"
#include "src/cli/commands.h"
#include "src/cli/get_command.h"

int main(int argc, char** argv) {
  try {
    std::ios::sync_with_stdio(false);
    const std::vector<std::string> args(argv + 1, argv + argc);
    snowflake::cli::Io io{std::cin, std::cout, std::cerr};
    snowflake::cli::ClusterCommand cluster;
    snowflake::cli::GetCommand get;
    snowflake::cli::ExtraCommand* const extra[] = {&cluster, &get};
    return snowflake::cli::RunCli(args, snowflake::SystemClock(), io, extra);
  } catch (...) {  // Only allocation can throw here.
    std::fputs("snowflake: internal error\n", stderr);
    return snowflake::cli::kExitBadData;
  }
}
