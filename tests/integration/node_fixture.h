// Shared by the end-to-end tests: starts the real snowflaked (path from
// the build, SNOWFLAKED_PATH) with a temp state dir on a free loopback port.
#ifndef SNOWFLAKE_TESTS_INTEGRATION_NODE_FIXTURE_H_
#define SNOWFLAKE_TESTS_INTEGRATION_NODE_FIXTURE_H_

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/daemon_process.h"
#include "testing/raw_http.h"

namespace snowflake::testing {

// The snowflaked under test: $SNOWFLAKED_BIN when set (to run the same
// tests against another build, e.g. the code before a fix), else the one
// built beside the tests.
inline std::string SnowflakedBinary() {
  const char* bin = std::getenv("SNOWFLAKED_BIN");
  return bin != nullptr && *bin != '\0' ? bin : SNOWFLAKED_PATH;
}

inline std::unique_ptr<DaemonProcess> StartNode(
    const std::string& state_dir, std::vector<std::string> args = {},
    std::vector<std::pair<std::string, std::string>> env = {},
    const std::string& log_name = "node.log") {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir", state_dir,   "--worker-id",
                  "3",           "--threads", "2"};
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.env = std::move(env);
  options.log_path = state_dir + "/" + log_name;
  return DaemonProcess::Start(options);
}

// Big-endian u64s of a binary batch body.
inline std::vector<uint64_t> DecodeBinary(const std::string& body) {
  std::vector<uint64_t> ids(body.size() / 8);
  for (size_t i = 0; i < ids.size(); ++i) {
    uint64_t value = 0;
    for (int b = 0; b < 8; ++b) {
      value = value << 8 | static_cast<unsigned char>(body[i * 8 + b]);
    }
    ids[i] = value;
  }
  return ids;
}

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTS_INTEGRATION_NODE_FIXTURE_H_
