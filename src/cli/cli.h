// The `snowflake` command line: parses the arguments with CLI11 and runs the
// chosen command from commands.h. main.cc only wires in the process's
// arguments, streams and clock.
#ifndef SNOWFLAKE_CLI_CLI_H_
#define SNOWFLAKE_CLI_CLI_H_

#include <span>
#include <string>

#include "snowflake/clock.h"
#include "src/cli/commands.h"

namespace snowflake::cli {

// Runs `snowflake <args...>` (`args` excludes the program name) and returns
// the exit code: kExitOk (also for --help and --version), kExitUsage for a
// bad command line, kExitBadData for bad input. Every failure writes exactly
// one line to `io.err`. Never throws. `clock` feeds `gen`.
int RunCli(std::span<const std::string> args, Clock& clock, Io& io);

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLI_H_
