// The client library over gRPC (ClientOptions endpoints "grpc://host:port",
// ClientOptions::transport) against real snowflaked processes serving
// --grpc-listen: IDs through Next() and NextBatch() from a fixed list; the
// gRPC addresses nodes advertise in their worker claims, found through a
// real etcd; failover when one of two gRPC nodes is SIGKILLed while eight
// threads take IDs, with no error reaching a caller and no ID repeated; and
// a node's batch limit (OUT_OF_RANGE, the gRPC form of HTTP's 413) returned
// at once, never retried on the other node.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/client.h"
#include "snowflake/status.h"
#include "testing/server_process.h"
#include "tests/integration/etcd_fixture.h"

namespace snowflake::testing {
namespace {

using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

std::string Grpc(int port) {
  return "grpc://127.0.0.1:" + std::to_string(port);
}
std::string Http(int port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

// A static node with worker ID `worker`, HTTP on `http_port` and gRPC on
// `grpc_port` (both 127.0.0.1).
std::unique_ptr<DaemonProcess> StartGrpcNode(
    const std::string& dir, int worker, int http_port, int grpc_port,
    const std::vector<std::string>& extra = {}) {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir",   dir,
                  "--worker-id",   std::to_string(worker),
                  "--threads",     "2",
                  "--listen",      "127.0.0.1:" + std::to_string(http_port),
                  "--grpc-listen", "127.0.0.1:" + std::to_string(grpc_port)};
  options.args.insert(options.args.end(), extra.begin(), extra.end());
  options.log_path = dir + "/node.log";
  return DaemonProcess::Start(options);
}

// The calls a node counted per transport and route, from its /metrics:
// "snowflake_http_requests_total{transport=...,route=...,code=...} N".
double Calls(int http_port, const std::string& transport,
             const std::string& route, const std::string& code) {
  std::optional<HttpReply> reply = HttpGet(http_port, "/metrics");
  if (!reply) return -1;
  const std::string series = "snowflake_http_requests_total{transport=\"" +
                             transport + "\",route=\"" + route + "\",code=\"" +
                             code + "\"} ";
  const size_t at = reply->body.find(series);
  if (at == std::string::npos) return 0;
  return std::strtod(reply->body.c_str() + at + series.size(), nullptr);
}

constexpr char kNextIds[] = "/snowflake.v1.IdService/NextIds";

ClientOptions Fixed(std::vector<std::string> endpoints) {
  ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.deadline = milliseconds(3000);
  options.attempt_timeout = milliseconds(500);
  options.node_backoff = milliseconds(300);
  options.prefetch.max_staleness = milliseconds(200);
  return options;
}

TEST(ClientGrpcTest, NextAndNextBatchOverGrpcFromAFixedList) {
  TempDir dir;
  absl::StatusOr<std::vector<int>> ports = FreePorts(2);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const int http = (*ports)[0];
  const int grpc = (*ports)[1];
  std::unique_ptr<DaemonProcess> node =
      StartGrpcNode(dir.path(), 5, http, grpc);
  ASSERT_TRUE(node->ready()) << node->Log();

  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(Fixed({Grpc(grpc)}));
  ASSERT_TRUE(client.ok()) << client.status();
  Client& c = **client;
  EXPECT_THAT(c.Endpoints(), ElementsAre(Grpc(grpc)));

  const Layout layout;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20'000; ++i) {
    absl::StatusOr<uint64_t> id = c.Next();
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  }
  for (int64_t n : {1, 7, 1000, 50'000}) {
    absl::StatusOr<std::vector<uint64_t>> batch = c.NextBatch(n);
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_THAT(*batch, SizeIs(n));
    EXPECT_TRUE(std::is_sorted(batch->begin(), batch->end()));
    ids.insert(ids.end(), batch->begin(), batch->end());
  }
  for (uint64_t id : ids) {
    absl::StatusOr<IdParts> parts = layout.Decompose(id);
    ASSERT_TRUE(parts.ok()) << id;
    ASSERT_EQ(parts->worker, 5) << id;
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());

  // Over gRPC, every request: the node counted as many NextIds calls (a
  // refill may still be on its way), and no /v1/ids.
  EXPECT_EQ(c.Stats().errors, 0u);
  EXPECT_GE(c.Stats().requests, 5u);
  EXPECT_TRUE(Eventually(
      [&] {
        return Calls(http, "grpc", kNextIds, "OK") ==
               static_cast<double>(c.Stats().requests);
      },
      seconds(5)))
      << Calls(http, "grpc", kNextIds, "OK") << " calls, " << c.Stats().requests
      << " requests";
  EXPECT_EQ(Calls(http, "http", "/v1/ids", "200"), 0);
}

// Three nodes on etcd: two serve gRPC (their claims name both addresses),
// one only HTTP (its claim is what an older node writes).
TEST(ClientGrpcTest, DiscoveryFindsTheAdvertisedGrpcAddresses) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "grpc");
  absl::StatusOr<std::vector<int>> ports = FreePorts(5);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::vector<int>& p = *ports;
  auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
  std::vector<std::unique_ptr<DaemonProcess>> nodes = scenario.StartAll({
      NodeSpec("a", "", 10,
               {"--listen", listen(p[0]), "--grpc-listen", listen(p[1])}),
      NodeSpec("b", "", 10,
               {"--listen", listen(p[2]), "--grpc-listen", listen(p[3])}),
      NodeSpec("c", "", 10, {"--listen", listen(p[4])}),
  });
  for (const auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();

  ClientOptions options;
  options.discovery.etcd_endpoints = etcd->ClientUrls();
  options.discovery.cluster = "grpc";
  options.deadline = milliseconds(3000);
  options.prefetch.enabled = false;  // Only the batches below: 10 a node.

  // HTTP, the default: every node by its HTTP address.
  absl::StatusOr<std::unique_ptr<Client>> http = Client::Create(options);
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_THAT((*http)->Endpoints(),
              UnorderedElementsAre(Http(p[0]), Http(p[2]), Http(p[4])));

  // gRPC: the nodes that advertise it by their gRPC address, the other
  // over HTTP.
  options.transport = ClientTransport::kGrpc;
  absl::StatusOr<std::unique_ptr<Client>> grpc = Client::Create(options);
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  EXPECT_THAT((*grpc)->Endpoints(),
              UnorderedElementsAre(Grpc(p[1]), Grpc(p[3]), Http(p[4])));
  // Round robin asks each node in turn: all three answer.
  std::vector<uint64_t> ids;
  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<std::vector<uint64_t>> batch = (*grpc)->NextBatch(100);
    ASSERT_TRUE(batch.ok()) << batch.status();
    ids.insert(ids.end(), batch->begin(), batch->end());
  }
  scenario.Record(ids);
  EXPECT_EQ(scenario.ExpectAllUnique(), 3000u);
  EXPECT_EQ(Calls(p[0], "grpc", kNextIds, "OK"), 10);
  EXPECT_EQ(Calls(p[2], "grpc", kNextIds, "OK"), 10);
  EXPECT_EQ(Calls(p[4], "http", "/v1/ids", "200"), 10);
}

TEST(ClientGrpcTest, FailoverWhenOneOfTwoGrpcNodesIsKilled) {
  TempDir dir_a;
  TempDir dir_b;
  absl::StatusOr<std::vector<int>> ports = FreePorts(4);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::vector<int>& p = *ports;
  std::unique_ptr<DaemonProcess> a = StartGrpcNode(dir_a.path(), 1, p[0], p[1]);
  std::unique_ptr<DaemonProcess> b = StartGrpcNode(dir_b.path(), 2, p[2], p[3]);
  ASSERT_TRUE(a->ready() && b->ready()) << a->Log() << b->Log();

  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(Fixed({Grpc(p[1]), Grpc(p[3])}));
  ASSERT_TRUE(client.ok()) << client.status();
  Client& c = **client;

  constexpr int kThreads = 8;
  const auto span = seconds(4);
  std::atomic<bool> killed{false};
  std::atomic<int64_t> after_kill{0};  // IDs taken after the kill.
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::vector<uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  const auto start = SteadyClock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      constexpr int64_t kSizes[] = {1, 7, 100, 1000};
      for (int64_t round = 0; SteadyClock::now() - start < span; ++round) {
        const bool was_killed = killed.load();
        if (t % 2 == 0) {
          absl::StatusOr<uint64_t> id = c.Next();
          if (!id.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            errors.push_back(id.status().ToString());
            continue;
          }
          ids[t].push_back(*id);
        } else {
          absl::StatusOr<std::vector<uint64_t>> got =
              c.NextBatch(kSizes[round % 4]);
          if (!got.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            errors.push_back(got.status().ToString());
            continue;
          }
          ids[t].insert(ids[t].end(), got->begin(), got->end());
        }
        if (was_killed) after_kill.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  std::this_thread::sleep_until(start + milliseconds(1500));
  a->Signal(SIGKILL);
  ASSERT_TRUE(a->Wait(seconds(5)).has_value());
  killed = true;
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(errors.size(), 0u)
      << "the first: " << (errors.empty() ? "" : errors.front());
  EXPECT_GT(after_kill.load(), 100);
  std::vector<uint64_t> all;
  for (const auto& some : ids) all.insert(all.end(), some.begin(), some.end());
  std::sort(all.begin(), all.end());
  const auto repeat = std::adjacent_find(all.begin(), all.end());
  EXPECT_EQ(repeat, all.end()) << "ID " << *repeat << " handed out twice";
  const Layout layout;
  int64_t from_a = 0;
  for (uint64_t id : all) from_a += layout.Decompose(id)->worker == 1 ? 1 : 0;
  EXPECT_GT(from_a, 0);                                 // Both nodes served,
  EXPECT_GT(static_cast<int64_t>(all.size()), from_a);  // before the kill.
  EXPECT_GT(c.Stats().failovers, 0u);
  EXPECT_EQ(c.Stats().errors, 0u);
}

TEST(ClientGrpcTest, ANodesBatchLimitIsReturnedAtOnceNeverRetried) {
  TempDir dir_a;
  TempDir dir_b;
  absl::StatusOr<std::vector<int>> ports = FreePorts(4);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::vector<int>& p = *ports;
  std::unique_ptr<DaemonProcess> a =
      StartGrpcNode(dir_a.path(), 1, p[0], p[1], {"--max-batch", "1000"});
  std::unique_ptr<DaemonProcess> b =
      StartGrpcNode(dir_b.path(), 2, p[2], p[3], {"--max-batch", "1000"});
  ASSERT_TRUE(a->ready() && b->ready()) << a->Log() << b->Log();

  ClientOptions options = Fixed({Grpc(p[1]), Grpc(p[3])});
  options.prefetch.enabled = false;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  Client& c = **client;

  const auto start = SteadyClock::now();
  absl::StatusOr<std::vector<uint64_t>> ids = c.NextBatch(5000);
  EXPECT_LT(Since(start), milliseconds(1000));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(
      std::string(ids.status().message()),
      AllOf(HasSubstr("node grpc://127.0.0.1:"),
            HasSubstr("answered OUT_OF_RANGE too_large"), HasSubstr("5000")));
  EXPECT_EQ(c.Stats().requests, 1u);
  EXPECT_EQ(c.Stats().failovers, 0u);
  EXPECT_EQ(Calls(p[0], "grpc", kNextIds, "OUT_OF_RANGE") +
                Calls(p[2], "grpc", kNextIds, "OUT_OF_RANGE"),
            1);

  // Within the limit, from the same client: IDs.
  ids = c.NextBatch(1000);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, SizeIs(1000));
}

}  // namespace
}  // namespace snowflake::testing
