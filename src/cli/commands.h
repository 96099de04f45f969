// The commands of the `snowflake` tool, as a library: each takes its parsed
// flags and the streams to use, writes its output, and returns the process
// exit code, so tests run them without spawning processes. cli.h turns a
// command line into these calls.
#ifndef SNOWFLAKE_CLI_COMMANDS_H_
#define SNOWFLAKE_CLI_COMMANDS_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "snowflake/layout.h"

namespace snowflake::cli {

// Exit codes. Every failure also writes exactly one line to the error stream.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadData = 1;  // An input ID or text is invalid.
inline constexpr int kExitUsage = 2;    // A flag or argument is invalid.

// `gen` refuses to make more IDs than this in one run.
inline constexpr int64_t kMaxGenCount = 100'000'000;

// The streams a command uses; not owned.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

// The preset that --preset names when not given.
inline constexpr char kDefaultPreset[] = "default";

// Flags that choose a layout. Unset fields keep the preset's values.
struct LayoutFlags {
  std::string preset = kDefaultPreset;
  // "TIME/WORKER/SEQUENCE" or a preset name (as snowflaked's --layout);
  // empty: the preset's.
  std::string widths;
  std::optional<int64_t> epoch_millis;
  std::optional<int64_t> unit_millis;
};

// The layout `flags` describe: the preset, with the epoch, unit and widths
// given replaced; `widths` may instead name a preset (`--layout js53`, the
// spelling snowflaked takes). Errors: those of Layout::Preset, Parse and
// Create, whose messages name the field at fault; kInvalidArgument if the
// layout's time range ends past what int64_t milliseconds hold, or when
// `preset` and `widths` name two different presets.
absl::StatusOr<Layout> ResolveLayout(const LayoutFlags& flags);

// Arguments of the commands that read IDs or texts: each one in order, with
// "-" standing for the lines of standard input; no arguments at all means
// standard input alone. Blank lines are skipped, surrounding blanks trimmed.

struct DecodeFlags {
  LayoutFlags layout;
  std::string encoding = "decimal";  // Of the input.
  bool json = false;                 // One JSON object per line.
  std::vector<std::string> ids;
};

struct GenFlags {
  LayoutFlags layout;
  std::string encoding = "decimal";  // Of the output.
  int64_t count = 1;
  int64_t worker = 0;
};

struct LayoutCommandFlags {
  LayoutFlags layout;
  bool json = false;
};

struct EncodeFlags {
  std::string from = "decimal";
  std::string to;
  std::vector<std::string> ids;
};

struct ParseFlags {
  std::string from;
  std::vector<std::string> texts;
};

// Prints the time (Unix ms and RFC 3339), worker, sequence and tick of each
// ID. Stops at the first invalid ID (kExitBadData).
int Decode(const DecodeFlags& flags, Io& io);

// Prints `count` new IDs, one a line, from a Generator for `worker` on
// `clock`. Not coordinated: no lease and no high-water mark.
int Gen(const GenFlags& flags, Clock& clock, Io& io);

// Prints the limits of a layout; warns on the error stream when its IDs
// outgrow JavaScript's safe integers (2^53) within its range.
int ShowLayout(const LayoutCommandFlags& flags, Io& io);

// Prints each ID (in `from`) in encoding `to`, one a line.
int Encode(const EncodeFlags& flags, Io& io);

// Prints each text (in `from`) as a decimal ID, one a line.
int Parse(const ParseFlags& flags, Io& io);

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_COMMANDS_H_
