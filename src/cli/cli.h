// The `snowflake` command line: parses the arguments with CLI11 and runs the
// chosen command from commands.h. main.cc only wires in the process's
// arguments, streams and clock.
#ifndef SNOWFLAKE_CLI_CLI_H_
#define SNOWFLAKE_CLI_CLI_H_

#include <span>
#include <string>

#include "snowflake/clock.h"
#include "src/cli/commands.h"

namespace CLI {
class App;
}  // namespace CLI

namespace snowflake::cli {

// A command compiled outside snowflake_cli_lib: `cluster` needs the etcd
// client, hence gRPC, which the sanitizer builds of cli_test leave out. The
// binary that links such a command hands it to RunCli.
class ExtraCommand {
 public:
  ExtraCommand() = default;
  virtual ~ExtraCommand() = default;
  ExtraCommand(const ExtraCommand&) = delete;
  ExtraCommand& operator=(const ExtraCommand&) = delete;

  // Declares the subcommand and its flags (owned by this object) on `app`
  // and returns it.
  virtual CLI::App* Add(CLI::App& app) = 0;
  // Runs the command once its flags are parsed; returns the exit code.
  virtual int Run(Clock& clock, Io& io) = 0;
};

// Runs `snowflake <args...>` (`args` excludes the program name) and returns
// the exit code: kExitOk (also for --help and --version), kExitUsage for a
// bad command line, kExitBadData for bad input. Every failure writes exactly
// one line to `io.err`. Never throws. `clock` feeds `gen`. `extra` adds
// commands built elsewhere (not owned).
int RunCli(std::span<const std::string> args, Clock& clock, Io& io,
           std::span<ExtraCommand* const> extra = {});

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLI_H_
