// Node against a real etcd: a worker ID lost and acquired again, over and
// over, while other threads issue IDs and read /v1/info and /metrics, as
// HTTP threads do. Under AddressSanitizer and ThreadSanitizer this is the
// test for the generation's lifetime (issue 9, points 3 and 13).
#include "src/server/node.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snowflake/status.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/server/http_handler.h"
#include "src/server/metrics.h"
#include "testing/etcd_test_util.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;

TEST(NodeLeaseLossTest, ReadersAndIssuersRaceSafelyWithLeaseLoss) {
  std::unique_ptr<testing::EtcdLauncher> etcd = testing::StartEtcd();
  ASSERT_NE(etcd, nullptr);
  EtcdLeaseOptions lease_options;
  lease_options.client.endpoints = etcd->ClientUrls();
  lease_options.cluster = "race";
  lease_options.range_first = 0;
  lease_options.range_last = 0;  // Lost and acquired again: always ID 0.
  lease_options.ttl_seconds = 2;
  lease_options.node_name = "racer";
  lease_options.addresses = {"127.0.0.1:1"};
  lease_options.state_dir = etcd->dir() + "/state-racer";
  auto lease = EtcdLease::Create(lease_options);
  ASSERT_TRUE(lease.ok()) << lease.status();
  NodeOptions options;
  options.name = "racer";
  options.hwm_reserve_millis = 2000;
  Node node(options, std::make_unique<WallClock>(), *std::move(lease));
  Metrics metrics(BuildInfo{"test", "41/10/12", "etcd"});
  HttpHandler handler(HandlerOptions{1000, "test"}, node, metrics);
  ASSERT_OK(node.Start());

  std::atomic<bool> stop{false};
  std::vector<std::vector<uint64_t>> issued(3);
  std::vector<int> refused(3, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < issued.size(); ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        // What HTTP threads do at the moment the generation is retired.
        EXPECT_EQ(handler.Handle({"GET", "/v1/info", ""}).status, 200);
        HttpResponse metrics_text = handler.Handle({"GET", "/metrics", ""});
        EXPECT_EQ(metrics_text.status, 200);
        HttpResponse ids =
            handler.Handle({"GET", "/v1/ids?count=50&format=text", ""});
        if (ids.status != 200) {
          EXPECT_EQ(ids.status, 503) << ids.body;
          ++refused[t];
          continue;
        }
        size_t begin = 0;
        while (begin < ids.body.size()) {
          const size_t end = ids.body.find('\n', begin);
          issued[t].push_back(std::stoull(ids.body.substr(begin, end - begin)));
          begin = end + 1;
        }
      }
    });
  }

  std::unique_ptr<etcd::EtcdClient> client = testing::ConnectEtcd(*etcd);
  ASSERT_NE(client, nullptr);
  const std::string claim =
      cluster_schema::WorkerKey(lease_options.prefix, lease_options.cluster, 0);
  constexpr int kLosses = 8;
  int reacquired = 0;
  for (int i = 0; i < kLosses; ++i) {
    const std::shared_ptr<const Generation> before = node.generation();
    if (before == nullptr) break;
    // Let the issuers hold this generation for a while, then take it away.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto deleted = client->Delete(claim);
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    if (!testing::Eventually(
            [&] {
              const auto now = node.generation();
              return now != nullptr && now != before;
            },
            std::chrono::seconds(20))) {
      break;
    }
    // What a reader held across the loss is still whole: its generator
    // refuses, its keeper still answers.
    EXPECT_EQ(GetErrorKind(before->generator->NextRun(1).status()),
              ErrorKind::kStopped);
    EXPECT_GE(before->keeper->stats().stores, 1u);
    ++reacquired;
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(reacquired, kLosses) << "the node did not acquire ID 0 again";
  EXPECT_THAT(handler.Handle({"GET", "/metrics", ""}).body,
              HasSubstr("snowflake_lease_claims_lost_total"));

  std::set<uint64_t> unique;
  size_t total = 0;
  for (const auto& ids : issued) {
    total += ids.size();
    unique.insert(ids.begin(), ids.end());
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(unique.size(), total) << "an ID was issued twice";
  ASSERT_OK(node.Shutdown());
}

}  // namespace
}  // namespace snowflake
