// Many concurrent keep-alive clients take over 2,000,000 IDs from one node:
// no duplicates, each connection's IDs strictly increasing, and the node's
// metrics (checked by promtool) agree with what was taken.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kClients = 16;
constexpr int kBinaryBatches = 12;  // Of 10,000 each.
constexpr int kJsonBatches = 5;     // Of 1,000 each.
constexpr int kSingles = 200;

struct ClientResult {
  std::vector<uint64_t> ids;
  std::string error;
};

void RunClient(int port, ClientResult& result) {
  RawHttpConnection c(port);
  auto take = [&](const std::string& target,
                  const std::string& accept) -> std::optional<HttpReply> {
    auto r = c.Get(target, accept);
    if (!r || r->status != 200) {
      result.error = "request " + target + " failed: " +
                     (r ? std::to_string(r->status) + " " + r->body : "closed");
      return std::nullopt;
    }
    return r;
  };
  for (int round = 0; round < kBinaryBatches; ++round) {
    auto r = take("/v1/ids?count=10000", "application/octet-stream");
    if (!r) return;
    for (uint64_t id : DecodeBinary(r->body)) result.ids.push_back(id);
    if (round < kJsonBatches) {
      auto j = take("/v1/ids?count=1000", "application/json");
      if (!j) return;
      const nlohmann::json parsed = nlohmann::json::parse(j->body);
      for (const auto& id : parsed["ids"]) {
        result.ids.push_back(std::stoull(id.get<std::string>()));
      }
    }
    for (int i = 0; i < kSingles / kBinaryBatches + 1; ++i) {
      auto s = take("/v1/id", "text/plain");
      if (!s) return;
      result.ids.push_back(std::stoull(s->body));
    }
  }
}

std::string RunPromtool(const std::string& text, const std::string& dir) {
  const std::string path = dir + "/metrics.prom";
  std::ofstream(path) << text;
  const std::string command =
      std::string(PROMTOOL_PATH) + " check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buf[256];
  while (pipe != nullptr && fgets(buf, sizeof(buf), pipe) != nullptr) {
    output += buf;
  }
  const int rc = pipe != nullptr ? pclose(pipe) : -1;
  return rc == 0 ? "" : "promtool failed: " + output;
}

double MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(LoadTest, TwoMillionIdsNoDuplicatesMetricsAgree) {
  TempDir dir;
  auto node = StartNode(dir.path());
  ASSERT_TRUE(node->ready()) << node->Log();

  std::vector<ClientResult> results(kClients);
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back(RunClient, node->port(), std::ref(results[i]));
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  std::vector<uint64_t> all;
  uint64_t singles = 0;
  for (const ClientResult& r : results) {
    ASSERT_TRUE(r.error.empty()) << r.error;
    for (size_t i = 1; i < r.ids.size(); ++i) {
      ASSERT_GT(r.ids[i], r.ids[i - 1]) << "not increasing at " << i;
    }
    all.insert(all.end(), r.ids.begin(), r.ids.end());
    singles += uint64_t{kBinaryBatches} * (kSingles / kBinaryBatches + 1);
  }
  ASSERT_GE(all.size(), 2'000'000u);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "duplicate ID";
  std::printf("took %zu IDs in %.2f s (%.0f IDs/s)\n", all.size(), seconds,
              static_cast<double>(all.size()) / seconds);

  auto metrics = HttpGet(node->port(), "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(RunPromtool(metrics->body, dir.path()), "");
  EXPECT_EQ(MetricValue(metrics->body, "snowflake_ids_issued_total"),
            static_cast<double>(all.size()));
  EXPECT_EQ(MetricValue(metrics->body,
                        "snowflake_http_requests_total{transport=\"http\","
                        "route=\"/v1/id\",code=\"200\"}"),
            static_cast<double>(singles));
  EXPECT_EQ(MetricValue(metrics->body,
                        "snowflake_http_requests_total{transport=\"http\","
                        "route=\"/v1/ids\",code=\"200\"}"),
            kClients * (kBinaryBatches + kJsonBatches));
  EXPECT_EQ(MetricValue(metrics->body,
                        "snowflake_http_request_duration_seconds_count{"
                        "transport=\"http\",route=\"/v1/ids\"}"),
            kClients * (kBinaryBatches + kJsonBatches));
  EXPECT_EQ(MetricValue(metrics->body, "snowflake_worker_id"), 3);
  EXPECT_EQ(MetricValue(metrics->body, "snowflake_ready"), 1);
  EXPECT_GT(MetricValue(metrics->body, "snowflake_hwm_headroom_seconds"), 0);
  EXPECT_THAT(metrics->body, HasSubstr("snowflake_build_info{"));

  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();
}

}  // namespace
}  // namespace snowflake::testing
