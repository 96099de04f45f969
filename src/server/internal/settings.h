// The table of snowflaked's settings (one row per setting: file key, flag,
// environment variable, type, default, help and how its text is applied to
// a Config), its value parsers, and the TOML file reader. config.cc builds
// the command line, the precedence and the cross-field checks on top.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_SETTINGS_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_SETTINGS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/server/config.h"

namespace snowflake::internal {

// kRegions: the region map, a string in the flag's syntax or a TOML table.
enum class Kind { kString, kInt, kBool, kRegions };

inline constexpr std::string_view kRegionsKey = "regions";

// Where the layout's settings land before Finish combines them.
struct RawLayout {
  std::string layout = limits::kDefaultLayout;
  std::string epoch;
  std::string unit;
};

using ApplyFn = absl::Status (*)(std::string_view value, Config& config,
                                 RawLayout& raw);

struct Setting {
  std::string_view key;
  std::string_view flag;
  std::string_view env;
  Kind kind;
  std::string_view type;     // For --help: INT, MS, HOST:PORT, ...
  std::string default_text;  // The default as a value of the setting.
  std::string_view help;
  ApplyFn apply;
};

// Every setting, in the order of --help, --print-config and the docs'
// table. Built once; never changes afterwards.
const std::vector<Setting>& Settings();

// The setting with file key `key`; nullptr if none.
const Setting* FindSetting(std::string_view key);

// The TOML table a key lives in ("layout" for "layout.epoch"); empty for a
// top-level key. The region map is its own table, "regions".
std::string_view SectionOf(std::string_view key);

// "true/1/yes/on" or "false/0/no/off", any case. Errors: kInvalidArgument.
absl::StatusOr<bool> ParseBool(std::string_view text);

// The layout named by `text`, a preset name or TIME/WORKER/SEQUENCE widths
// (on the default layout's unit and epoch), as `snowflake --layout` reads
// it. Errors: kInvalidArgument naming the text and listing the presets.
absl::StatusOr<Layout> ParseLayoutText(std::string_view text);

// Unix milliseconds or RFC 3339. Errors: kInvalidArgument.
absl::StatusOr<int64_t> ParseEpoch(std::string_view text);

// A setting's value and where it came from.
struct Found {
  std::string value;
  std::string source;  // "default", "file F line N", "env X", "flag --x".
};

// Reads the TOML file at `path` into key -> (text, "file F line N"), the
// region map as one entry in the flag's syntax. Errors: kNotFound for a
// missing file; kInvalidArgument for one that is no readable regular file,
// a syntax error, an unknown key or a value of the wrong type (naming the
// key and the line).
absl::Status ReadSettingsFile(const std::string& path,
                              std::map<std::string, Found>& out);

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_SETTINGS_H_
