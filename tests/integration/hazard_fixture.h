// Shared by the end-to-end tests of issue 8 (etcd restarts and outages,
// restores, misconfiguration) and the suite over both coordinators (issue
// 10, coordinator_test.cc): reads etcd keys through
// etcdctl (so these tests link no etcd client), the /v1/info JSON, the
// replies of a Load summed over a time window, and a wall clock set back
// with libfaketime. Tests pass the settings the fix added through their
// environment variables where they can, so the same test binary runs
// against a snowflaked from before the fix (SNOWFLAKED_BIN) and fails on
// the hazard, not on an unknown flag.
#ifndef SNOWFLAKE_TESTS_INTEGRATION_HAZARD_FIXTURE_H_
#define SNOWFLAKE_TESTS_INTEGRATION_HAZARD_FIXTURE_H_

#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/etcd_fixture.h"

namespace snowflake::testing {

inline constexpr char kHazardPrefix[] = "/snowflake";

// The `snowflake` CLI: $SNOWFLAKE_CLI_BIN when set, else the one built
// beside the tests.
inline std::string SnowflakeCliBinary() {
  const char* bin = std::getenv("SNOWFLAKE_CLI_BIN");
  return bin != nullptr && *bin != '\0' ? bin : SNOWFLAKE_CLI_PATH;
}

inline std::string WorkerKeyOf(const std::string& cluster, int64_t id) {
  return std::string(kHazardPrefix) + "/" + cluster + "/workers/" +
         std::to_string(id);
}
inline std::string HwmKeyOf(const std::string& cluster, int64_t id) {
  return std::string(kHazardPrefix) + "/" + cluster + "/hwm/" +
         std::to_string(id);
}

// One key as etcdctl shows it; nullopt when it does not exist or etcdctl
// failed.
struct EtcdKey {
  int64_t lease = 0;  // 0: none.
  int64_t mod_revision = 0;
};
inline std::optional<EtcdKey> GetKey(EtcdLauncher& etcd,
                                     const std::string& key) {
  absl::StatusOr<std::string> out =
      etcd.Etcdctl({"--command-timeout", "2s", "get", key, "-w", "json"});
  if (!out.ok()) return std::nullopt;
  const nlohmann::json reply = nlohmann::json::parse(*out, nullptr, false);
  if (!reply.is_object() || !reply.contains("kvs") || reply["kvs"].empty()) {
    return std::nullopt;
  }
  const nlohmann::json& kv = reply["kvs"][0];
  return EtcdKey{kv.value("lease", int64_t{0}),
                 kv.value("mod_revision", int64_t{0})};
}

// The value of `key`, or nullopt.
inline std::optional<std::string> GetValue(EtcdLauncher& etcd,
                                           const std::string& key) {
  absl::StatusOr<std::string> out = etcd.Etcdctl(
      {"--command-timeout", "2s", "get", key, "--print-value-only"});
  if (!out.ok() || out->empty()) return std::nullopt;
  std::string value = *out;
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  return value;
}

// The HWM stored for worker `id` (Unix ms), or nullopt.
inline std::optional<int64_t> StoredHwmOf(EtcdLauncher& etcd,
                                          const std::string& cluster,
                                          int64_t id) {
  std::optional<std::string> value = GetValue(etcd, HwmKeyOf(cluster, id));
  if (!value) return std::nullopt;
  return std::strtoll(value->c_str(), nullptr, 10);
}

// GET /v1/info as JSON (null when the node does not answer 200).
inline nlohmann::json Info(int port) {
  std::optional<HttpReply> reply = HttpGet(port, "/v1/info");
  if (!reply || reply->status != 200) return nlohmann::json();
  return nlohmann::json::parse(reply->body, nullptr, false);
}

// The worker ID a node reports in /v1/info, or -1.
inline int64_t InfoWorkerId(int port) {
  const nlohmann::json info = Info(port);
  if (!info.is_object() || !info.contains("lease")) return -1;
  return info["lease"].value("worker_id", int64_t{-1});
}

// The port of a node's "event=listening" log line, or 0: for a node that
// became ready after DaemonProcess::Start stopped waiting.
inline int ListeningPort(const std::string& log) {
  const size_t at = log.find("event=listening");
  if (at == std::string::npos) return 0;
  const size_t port_at = log.find("port=", at);
  return port_at == std::string::npos ? 0
                                      : std::atoi(log.c_str() + port_at + 5);
}

// SIGTERM, and a clean exit expected.
inline void StopNode(DaemonProcess& node) {
  node.Signal(SIGCONT);
  node.Signal(SIGTERM);
  EXPECT_EQ(node.Wait(std::chrono::seconds(15)), 0) << node.Log();
}

// The replies of a Load received in [from, to), summed up.
struct Window {
  size_t ok = 0;
  size_t failed = 0;  // Any status but 200, or no answer.
  std::string first_failure;
  std::string last_failure;
};
inline Window Summarize(Load& load, SteadyClock::time_point from,
                        SteadyClock::time_point to,
                        SteadyClock::time_point origin) {
  Window w;
  for (const LoadReply& r : load.Replies()) {
    if (r.received < from || r.received >= to) continue;
    if (r.status == 200) {
      ++w.ok;
      continue;
    }
    const std::string text =
        "status " + std::to_string(r.status) + " at " +
        std::to_string(
            std::chrono::duration_cast<milliseconds>(r.received - origin)
                .count()) +
        " ms: " + r.error;
    if (w.failed++ == 0) w.first_failure = text;
    w.last_failure = text;
  }
  return w;
}

// Every ID a Load received.
inline std::vector<uint64_t> AllIds(Load& load) {
  std::vector<uint64_t> ids;
  for (const LoadReply& r : load.Replies()) {
    ids.insert(ids.end(), r.ids.begin(), r.ids.end());
  }
  return ids;
}

// libfaketime setting the wall clock off by `offset` ("-0.5", "-5"); the
// monotonic clock stays real (see etcd_lease_test.cc).
inline std::vector<std::pair<std::string, std::string>> ShiftedWallClock(
    const std::string& offset) {
  return {{"LD_PRELOAD", LIBFAKETIME_PATH},
          {"FAKETIME", offset},
          {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
}

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTS_INTEGRATION_HAZARD_FIXTURE_H_
