// For the CLI's tests: runs `snowflake <args>` in-process with a given
// stdin and captures the exit code and both output streams.
#ifndef SNOWFLAKE_CLI_INTERNAL_RUN_CLI_H_
#define SNOWFLAKE_CLI_INTERNAL_RUN_CLI_H_

#include <sstream>
#include <string>
#include <vector>

#include "snowflake/clock.h"
#include "snowflake/layout.h"
#include "src/cli/cli.h"
#include "testing/simulated_clock.h"

namespace snowflake::cli::internal {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `snowflake <args>` with `input` on stdin and `clock` for gen.
inline Result RunWith(Clock& clock, const std::vector<std::string>& args,
                      const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  Result result;
  result.code = RunCli(args, clock, io);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// As RunWith, on a simulated clock 1 s past the default epoch.
inline Result Snowflake(const std::vector<std::string>& args,
                        const std::string& input = "") {
  snowflake::testing::SimulatedClock clock((kDefaultEpochMillis + 1000) * 1000);
  return RunWith(clock, args, input);
}

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_RUN_CLI_H_
