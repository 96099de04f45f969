// Node against a real etcd: a worker ID lost and acquired again, over and
// over, while other threads issue IDs and read /v1/info and /metrics, as
// HTTP threads do. Under AddressSanitizer and ThreadSanitizer this is the
// test for the generation's lifetime (issue 9, points 3 and 13).
#include "src/server/node.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snowflake/status.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/lease/static_lease.h"
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

// --workers 2: each thread bound to a worker issues under that worker's ID
// alone, from its own generator; a thread never bound is given one; the
// status lists both, and what one thread took is never what another did.
TEST(NodeWorkersTest, EachBoundThreadIssuesFromItsOwnWorker) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("node_workers_test." + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::vector<std::unique_ptr<WorkerLease>> leases;
  leases.push_back(std::make_unique<StaticLease>(7, dir));
  leases.push_back(std::make_unique<StaticLease>(8, dir));
  NodeOptions options;
  options.name = "two";
  Node node(options, std::make_unique<WallClock>(), std::move(leases));
  ASSERT_OK(node.Start());
  ASSERT_EQ(node.workers(), 2);
  const Layout& layout = node.layout();

  std::vector<std::vector<uint64_t>> taken(3);
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      if (t < 2) Node::BindThreadToWorker(t);
      for (int i = 0; i < 200; ++i) {
        const std::shared_ptr<const Generation> g = node.generation();
        ASSERT_NE(g, nullptr);
        auto run = g->generator->NextRun(100);
        ASSERT_TRUE(run.ok()) << run.status();
        ASSERT_TRUE(node.StillIssuing(*g));
        for (uint64_t id = run->first; id < run->first + run->count; ++id) {
          taken[t].push_back(id);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // A run may hold fewer than asked (the rest of a tick).
  size_t total = 0;
  std::set<uint64_t> all;
  for (int t = 0; t < 3; ++t) {
    total += taken[t].size();
    std::set<int64_t> workers;
    for (uint64_t id : taken[t]) {
      workers.insert(layout.Decompose(id)->worker);
      all.insert(id);
    }
    ASSERT_EQ(workers.size(), 1u) << "thread " << t;
    if (t < 2) {
      EXPECT_EQ(*workers.begin(), 7 + t) << "thread " << t;
    }
  }
  EXPECT_GE(total, 3u * 200);
  EXPECT_EQ(all.size(), total) << "an ID was issued twice";

  const NodeStatus status = node.Status();
  ASSERT_EQ(status.workers.size(), 2u);
  EXPECT_EQ(status.workers_held, 2);
  EXPECT_EQ(status.workers[0].lease.worker_id, 7);
  EXPECT_EQ(status.workers[1].lease.worker_id, 8);
  EXPECT_EQ(status.lease.worker_id, 7);
  EXPECT_TRUE(status.ready);
  ASSERT_OK(node.Shutdown());
  EXPECT_TRUE(std::filesystem::exists(StaticHwmPath(dir, 7)));
  EXPECT_TRUE(std::filesystem::exists(StaticHwmPath(dir, 8)));
  std::filesystem::remove_all(dir);
}

// What a request issues from, in one call: the reason while starting, this
// thread's worker's generation once started, and "shutting down" from
// BeginShutdown on, though the workers still hold their IDs until Shutdown.
TEST(NodeWorkersTest, IssuingGenerationSaysWhyItHasNone) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("node_issuing_test." + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::vector<std::unique_ptr<WorkerLease>> leases;
  leases.push_back(std::make_unique<StaticLease>(3, dir));
  leases.push_back(std::make_unique<StaticLease>(4, dir));
  Node node(NodeOptions{}, std::make_unique<WallClock>(), std::move(leases));

  auto before = node.IssuingGeneration();
  ASSERT_FALSE(before.ok());
  EXPECT_TRUE(absl::IsUnavailable(before.status())) << before.status();
  EXPECT_THAT(before.status().message(), HasSubstr("node is starting"));

  ASSERT_OK(node.Start());
  std::thread bound([&] {
    Node::BindThreadToWorker(1);
    auto issuing = node.IssuingGeneration();
    ASSERT_TRUE(issuing.ok()) << issuing.status();
    EXPECT_EQ((*issuing)->generator->worker_id(), 4);
  });
  bound.join();

  node.BeginShutdown();
  EXPECT_NE(node.generation(), nullptr) << "still held until Shutdown";
  auto after = node.IssuingGeneration();
  ASSERT_FALSE(after.ok());
  EXPECT_THAT(after.status().message(), HasSubstr("shutting down"));
  ASSERT_OK(node.Shutdown());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace snowflake
