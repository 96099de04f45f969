// The public API without nodes: what Create refuses, the counts NextBatch
// refuses before asking anyone, and calls that can reach no node failing
// within their deadline (tests/integration/client_test.cc runs real nodes).
#include "snowflake/client.h"

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Nothing listens on port 1 of loopback: connections are refused at once.
constexpr char kNobody[] = "http://127.0.0.1:1";

std::string CreateError(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  if (client.ok()) return "OK";
  return std::string(absl::StatusCodeToString(client.status().code())) + ": " +
         std::string(client.status().message());
}

TEST(ClientTest, CreateRefusesBadOptionsNamingTheValue) {
  ClientOptions options;
  EXPECT_THAT(CreateError(options),
              AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("no node")));

  options.endpoints = {kNobody, "garbage"};
  EXPECT_THAT(CreateError(options),
              AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("\"garbage\"")));
  options.endpoints = {"https://127.0.0.1:8080"};
  EXPECT_THAT(CreateError(options), HasSubstr("\"https\" is not supported"));

  options.endpoints = {kNobody};
  options.discovery.etcd_endpoints = {"http://127.0.0.1:2379"};
  EXPECT_THAT(CreateError(options),
              HasSubstr("both endpoints and a coordinator"));
  options.endpoints.clear();
  options.discovery.zookeeper_hosts = "127.0.0.1:2181";
  EXPECT_THAT(CreateError(options), HasSubstr("a cluster has one coordinator"));
  options.discovery.zookeeper_hosts.clear();
  options.discovery.cluster = "a/b";
  EXPECT_THAT(CreateError(options), HasSubstr("\"a/b\""));
  options.discovery.cluster = "c";
  options.discovery.prefix = "snowflake";
  EXPECT_THAT(CreateError(options), HasSubstr("\"snowflake\""));

  ClientOptions fixed;
  fixed.endpoints = {kNobody};
  ClientOptions bad = fixed;
  bad.deadline = milliseconds(0);
  EXPECT_THAT(CreateError(bad), HasSubstr("deadline (0 ms)"));
  bad = fixed;
  bad.max_batch = 0;
  EXPECT_THAT(CreateError(bad),
              HasSubstr("max_batch must be at least 1, got 0"));
  bad = fixed;
  bad.prefetch.max_staleness = milliseconds(5);
  EXPECT_THAT(CreateError(bad), HasSubstr("got 5 ms"));
  bad = fixed;
  bad.prefetch.max_batch = 200'000;
  EXPECT_THAT(CreateError(bad), HasSubstr("max_batch (200000)"));
  bad = fixed;
  bad.prefetch.high_watermark = 0;
  EXPECT_THAT(CreateError(bad), HasSubstr("low (1) <= high (0)"));
  bad.prefetch.enabled = false;  // Prefetch options are then not used.
  EXPECT_EQ(CreateError(bad), "OK");
}

TEST(ClientTest, NextBatchRefusesCountsNamingThem) {
  ClientOptions options;
  options.endpoints = {kNobody};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int64_t count : {0, -5}) {
    absl::StatusOr<std::vector<uint64_t>> ids = (*client)->NextBatch(count);
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(ids.status().message()),
                HasSubstr("got " + std::to_string(count)));
  }
  absl::StatusOr<std::vector<uint64_t>> ids = (*client)->NextBatch(100'001);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("count 100001 is above the largest batch, 100000"));
  EXPECT_EQ((*client)->Stats().requests, 0u);  // No node was asked.
  EXPECT_EQ((*client)->Stats().errors, 3u);
  EXPECT_THAT((*client)->Endpoints(), testing::ElementsAre(kNobody));
}

TEST(ClientTest, NoNodeUpFailsWithinTheDeadline) {
  for (bool prefetch : {true, false}) {
    ClientOptions options;
    options.endpoints = {kNobody, "http://127.0.0.1:2"};
    options.deadline = milliseconds(1500);
    options.node_backoff = milliseconds(400);
    options.prefetch.enabled = prefetch;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<uint64_t> id = (*client)->Next();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable)
        << id.status();
    EXPECT_THAT(std::string(id.status().message()),
                AllOf(HasSubstr("all 2 nodes are unavailable"),
                      HasSubstr("http://127.0.0.1:1: cannot connect"),
                      HasSubstr("http://127.0.0.1:2: cannot connect")));
    EXPECT_LE(took, milliseconds(1500 + 500));  // Slack for sanitizers.
    const ClientStats stats = (*client)->Stats();
    EXPECT_EQ(stats.errors, 1u);
    EXPECT_GE(stats.requests, 4u);  // Each node twice: 0 and 400 ms, 800 ms...
    EXPECT_GE(stats.failovers, 3u);
    EXPECT_EQ(stats.buffer_misses, prefetch ? 1u : 0u);
  }
}

TEST(ClientTest, UnreachableCoordinatorFailsCreateNamingTheCluster) {
  ClientOptions options;
  options.discovery.etcd_endpoints = {kNobody};
  options.discovery.cluster = "prod";
  options.discovery.timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(client.status().message()),
              AllOf(HasSubstr("cluster \"prod\""),
                    HasSubstr("etcd at http://127.0.0.1:1")));
  options.discovery.etcd_endpoints = {"not a url"};
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace snowflake
