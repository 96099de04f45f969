// Fuzzes the daemon's configuration loader (src/server/config.h): the input
// is a TOML file, loaded as `snowflaked --config FILE` with an empty
// environment. A refusal must be one of LoadConfig's documented codes; an
// accepted file must give a consistent Config, and its --print-config
// output (FormatConfig, "itself a valid TOML file") must load again to the
// same values.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/server/config.h"
#include "src/server/limits.h"
#include "tests/fuzz/fuzz_check.h"

namespace snowflake {
namespace {

// Settings whose --print-config value is not the value itself.
constexpr std::string_view kRedactedKeys[] = {"etcd.password",
                                              "zookeeper.auth"};

const std::string& ScratchDir() { return fuzz::ScratchDir("config"); }

void WriteFile(const std::string& path, std::string_view bytes) {
  FILE* file = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(file != nullptr);
  FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  FUZZ_CHECK(std::fclose(file) == 0);
}

absl::StatusOr<LoadedConfig> LoadFile(const std::string& path) {
  const EnvLookup no_env = [](const std::string&) {
    return std::optional<std::string>();
  };
  return LoadConfig({"snowflaked", "--config", path}, no_env);
}

bool IsRedacted(std::string_view key) {
  for (std::string_view redacted : kRedactedKeys) {
    if (key == redacted) return true;
  }
  return false;
}

// What LoadConfig promises of a configuration it accepts.
void CheckConfig(const Config& c) {
  FUZZ_CHECK(c.worker_mode == "static" || c.worker_mode == "etcd" ||
             c.worker_mode == "zookeeper");
  FUZZ_CHECK(c.worker_id >= 0 && c.worker_id <= c.layout.max_worker());
  FUZZ_CHECK(c.listen_port >= 0 && c.listen_port <= 65535);
  FUZZ_CHECK(c.threads >= 0 && c.threads <= limits::kMaxThreads);
  FUZZ_CHECK(c.max_batch >= 1 && c.max_batch <= limits::kMaxMaxBatch);
  FUZZ_CHECK(c.max_header_bytes >= 512 &&
             c.max_header_bytes <= limits::kMaxMaxHeaderBytes);
  FUZZ_CHECK(c.max_start_wait_millis >= 0 &&
             c.max_start_wait_millis <= limits::kMaxMaxStartWaitMillis);
  FUZZ_CHECK(c.outage_budget_seconds <= limits::kMaxOutageBudgetSeconds);
  FUZZ_CHECK(c.start_timeout_seconds >= 0 &&
             c.start_timeout_seconds <= limits::kMaxStartTimeoutSeconds);
  FUZZ_CHECK(c.worker_range_first >= 0);
  if (c.worker_range_last != -1) {
    FUZZ_CHECK(c.worker_range_first <= c.worker_range_last);
    FUZZ_CHECK(c.worker_range_last <= c.layout.max_worker());
  }
}

}  // namespace
}  // namespace snowflake

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  snowflake::ScratchDir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using snowflake::LoadedConfig;
  const std::string path = snowflake::ScratchDir() + "/snowflake.toml";
  snowflake::WriteFile(
      path, std::string_view(reinterpret_cast<const char*>(data), size));
  const absl::StatusOr<LoadedConfig> loaded = snowflake::LoadFile(path);
  if (!loaded.ok()) {
    const absl::StatusCode code = loaded.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
               code == absl::StatusCode::kNotFound ||
               code == absl::StatusCode::kUnimplemented);
    FUZZ_CHECK(!loaded.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(loaded->action == snowflake::ConfigAction::kRun);
  snowflake::CheckConfig(loaded->config);

  // --print-config's output loads again, to the same values.
  const std::string printed = snowflake::FormatConfig(*loaded);
  const std::string printed_path = snowflake::ScratchDir() + "/printed.toml";
  snowflake::WriteFile(printed_path, printed);
  const absl::StatusOr<LoadedConfig> again = snowflake::LoadFile(printed_path);
  if (!again.ok()) {
    std::fprintf(stderr, "%s--print-config output above does not load: %s\n",
                 printed.c_str(), again.status().ToString().c_str());
  }
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->values.size() == loaded->values.size());
  for (size_t i = 0; i < loaded->values.size(); ++i) {
    const snowflake::ConfigValue& before = loaded->values[i];
    const snowflake::ConfigValue& after = again->values[i];
    FUZZ_CHECK(before.key == after.key);
    if (snowflake::IsRedacted(before.key)) continue;
    if (before.value != after.value) {
      std::fprintf(stderr, "%s: \"%s\" printed and loaded as \"%s\"\n",
                   before.key.c_str(), before.value.c_str(),
                   after.value.c_str());
    }
    FUZZ_CHECK(before.value == after.value);
  }
  FUZZ_CHECK(again->config.layout == loaded->config.layout);
  FUZZ_CHECK(again->config.worker_id == loaded->config.worker_id);
  return 0;
}
