// The client library (include/snowflake/client.h) against real snowflaked
// processes: three nodes on a real etcd, found by discovery, taken from by
// eight threads through Next() and NextBatch() while one node is SIGKILLed,
// one SIGSTOPped and continued, and one restarted on another port: no error
// reaches a caller while a node is up, no ID repeats, and no ID is handed
// out older than max_staleness. The same discovery through ZooKeeper: a
// node SIGKILLed is dropped once its session expires, a new node is found.
// Then bad input, a coordinator without nodes, all nodes down, `snowflake
// get` and examples/cpp/example_client.
//
// SNOWFLAKE_CLIENT_TEST_IDS sets how many IDs the fault run takes in all
// (default 10,000,000, paced over 14 s so that the faults meet the run;
// fewer for a slow build such as a sanitizer's).
#include "snowflake/client.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/server_process.h"
#include "tests/integration/etcd_fixture.h"

namespace snowflake::testing {
namespace {

using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kDefaultIds = 10'000'000;
constexpr milliseconds kStaleness{200};
// Node leases outlive the SIGSTOP below, so the stopped node keeps its
// worker ID and serves again as soon as it is continued.
constexpr int kTtlSeconds = 10;

int64_t IdsToTake() {
  const char* text = std::getenv("SNOWFLAKE_CLIENT_TEST_IDS");
  if (text == nullptr || *text == '\0') return kDefaultIds;
  const int64_t ids = std::strtoll(text, nullptr, 10);
  return ids > 0 ? ids : kDefaultIds;
}

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

NodeSpec Node(const std::string& name, int port) {
  return NodeSpec(name, "", kTtlSeconds,
                  {"--listen", "127.0.0.1:" + std::to_string(port)});
}

// Quick to follow the nodes and to give up on one: what the tests below
// time their faults against.
ClientOptions Discovering(const std::string& cluster) {
  ClientOptions options;
  options.discovery.cluster = cluster;
  options.discovery.refresh_interval = milliseconds(500);
  options.discovery.min_refresh_interval = milliseconds(100);
  options.deadline = milliseconds(3000);
  options.attempt_timeout = milliseconds(300);
  options.node_backoff = milliseconds(300);
  options.prefetch.max_staleness = kStaleness;
  return options;
}

ClientOptions Discovering(const EtcdLauncher& etcd,
                          const std::string& cluster) {
  ClientOptions options = Discovering(cluster);
  options.discovery.etcd_endpoints = etcd.ClientUrls();
  return options;
}

// The ZooKeeper connect string of the flags a backend gives its nodes.
std::string ZooKeeperHosts(const CoordinatorBackend& zookeeper) {
  const std::vector<std::string> flags = zookeeper.NodeFlags()(1);
  auto at = std::find(flags.begin(), flags.end(), "--zookeeper-hosts");
  return at == flags.end() || at + 1 == flags.end() ? "" : *(at + 1);
}

bool Knows(const Client& client, const std::string& url) {
  const std::vector<std::string> known = client.Endpoints();
  return std::find(known.begin(), known.end(), url) != known.end();
}

// What the taking threads saw, shared.
struct Ledger {
  std::mutex mu;
  std::vector<std::string> errors;  // With the time since the start.
  int64_t stale = 0;                // IDs handed out too old.
  int64_t worst_age_micros = 0;
};

// One of the threads: takes `quota` IDs, through Next() (or NextBatch()
// of assorted sizes), no faster than `quota` over `span`, and rests while
// `pause` is set. Keeps every ID in `ids`. An ID is too old when its time
// (the start of its tick) is more than max_staleness plus one tick before
// the instant the call began: the client measures age from the request,
// which the node's tick can precede by a tick at most.
void Take(Client& client, const Scenario& scenario, bool batches, int64_t quota,
          std::chrono::steady_clock::duration span,
          const std::atomic<bool>& pause, Ledger& ledger,
          std::vector<uint64_t>& ids) {
  constexpr int64_t kSizes[] = {1, 7, 100, 1000, 4096};
  const int64_t unit_micros = scenario.layout().unit_millis() * 1000;
  const int64_t limit_micros = kStaleness.count() * 1000 + unit_micros;
  const auto start = SteadyClock::now();
  ids.reserve(static_cast<size_t>(quota));
  const int64_t step = std::max<int64_t>(1, quota / 2000);
  int64_t taken = 0;
  int64_t next_look = 0;
  for (int64_t round = 0; taken < quota; ++round) {
    if (taken >= next_look) {
      while (pause.load()) std::this_thread::sleep_for(milliseconds(5));
      // Ahead of an even pace over `span`: wait, so that the faults meet
      // a run in progress however fast the machine.
      const double share =
          std::chrono::duration<double>(SteadyClock::now() - start) / span;
      if (static_cast<double>(taken) > share * static_cast<double>(quota)) {
        std::this_thread::sleep_for(milliseconds(2));
        continue;
      }
      next_look = taken + step;
    }
    const int64_t called = WallMicros();
    uint64_t oldest = 0;
    if (batches) {
      const int64_t n = std::min(kSizes[round % 5], quota - taken);
      absl::StatusOr<std::vector<uint64_t>> got = client.NextBatch(n);
      if (!got.ok()) {
        std::lock_guard<std::mutex> lock(ledger.mu);
        ledger.errors.push_back(std::string(got.status().ToString()));
        continue;
      }
      oldest = *std::min_element(got->begin(), got->end());
      ids.insert(ids.end(), got->begin(), got->end());
      taken += n;
    } else {
      absl::StatusOr<uint64_t> got = client.Next();
      if (!got.ok()) {
        std::lock_guard<std::mutex> lock(ledger.mu);
        ledger.errors.push_back(std::string(got.status().ToString()));
        continue;
      }
      oldest = *got;
      ids.push_back(*got);
      ++taken;
    }
    const int64_t age = called - scenario.MillisOf(oldest) * 1000;
    if (age > limit_micros) {
      std::lock_guard<std::mutex> lock(ledger.mu);
      ++ledger.stale;
      ledger.worst_age_micros = std::max(ledger.worst_age_micros, age);
    }
  }
}

TEST(ClientClusterTest, FailoverUnderKillStopAndRestartNoRepeatNoStaleId) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "faults");
  absl::StatusOr<std::vector<int>> ports = FreePorts(4);
  ASSERT_TRUE(ports.ok()) << ports.status();
  std::vector<std::unique_ptr<DaemonProcess>> nodes = scenario.StartAll(
      {Node("a", (*ports)[0]), Node("b", (*ports)[1]), Node("c", (*ports)[2])});
  for (const auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();

  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(Discovering(*etcd, "faults"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT((*client)->Endpoints(),
              ::testing::UnorderedElementsAre(
                  Url((*ports)[0]), Url((*ports)[1]), Url((*ports)[2])));

  const int64_t total = IdsToTake();
  constexpr int kThreads = 8;
  const auto span = seconds(14);
  Ledger ledger;
  std::atomic<bool> pause{false};
  std::vector<std::vector<uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  const auto start = SteadyClock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Take(**client, scenario, /*batches=*/t % 2 == 1, total / kThreads, span,
           pause, ledger, ids[t]);
    });
  }
  auto at = [&](milliseconds when) {
    std::this_thread::sleep_until(start + when);
  };

  at(milliseconds(2000));  // a dies: refused connections, its claim stays.
  nodes[0]->Signal(SIGKILL);
  nodes[0]->Wait(seconds(5));

  at(milliseconds(3500));  // b stops answering: attempt timeouts.
  nodes[1]->Signal(SIGSTOP);
  ASSERT_TRUE(WaitStopped(nodes[1]->pid(), seconds(5)));
  at(milliseconds(5500));
  nodes[1]->Signal(SIGCONT);
  ASSERT_TRUE(Eventually(
      [&] { return Status(nodes[1]->port(), "/readyz") == 200; }, seconds(10)))
      << nodes[1]->Log();

  // Every taker rests past max_staleness: what the buffer holds goes stale
  // and must be dropped, not handed out.
  at(milliseconds(6500));
  pause.store(true);
  std::this_thread::sleep_for(kStaleness * 2);
  pause.store(false);

  // c restarts on another port: drained (503 while it stops), then found
  // again by discovery at its new address.
  at(milliseconds(8000));
  nodes[2]->Signal(SIGTERM);
  EXPECT_EQ(nodes[2]->Wait(seconds(15)), 0) << nodes[2]->Log();
  nodes[2] = scenario.Start(Node("c", (*ports)[3]));
  ASSERT_TRUE(nodes[2]->ready()) << nodes[2]->Log();
  EXPECT_TRUE(Eventually(
      [&] {
        const std::vector<std::string> known = (*client)->Endpoints();
        return std::find(known.begin(), known.end(), Url((*ports)[3])) !=
               known.end();
      },
      seconds(5)));

  for (std::thread& t : threads) t.join();
  const auto took = SteadyClock::now() - start;

  {
    std::lock_guard<std::mutex> lock(ledger.mu);
    EXPECT_THAT(ledger.errors, SizeIs(0))
        << "first: " << (ledger.errors.empty() ? "" : ledger.errors.front());
    EXPECT_EQ(ledger.stale, 0)
        << "IDs handed out older than " << kStaleness.count()
        << " ms plus a tick; the worst " << ledger.worst_age_micros << " us";
  }
  std::vector<uint64_t> all;
  all.reserve(static_cast<size_t>(total));
  for (std::vector<uint64_t>& mine : ids) {
    all.insert(all.end(), mine.begin(), mine.end());
    std::vector<uint64_t>().swap(mine);
  }
  EXPECT_EQ(static_cast<int64_t>(all.size()), total / kThreads * kThreads);
  std::sort(all.begin(), all.end());
  const auto repeat = std::adjacent_find(all.begin(), all.end());
  EXPECT_TRUE(repeat == all.end())
      << "ID " << *repeat << " (worker " << scenario.WorkerOf(*repeat)
      << ") was handed out twice";

  const ClientStats stats = (*client)->Stats();
  std::printf(
      "%zu IDs in %.1f s; hits %llu misses %llu refills %llu failovers %llu "
      "dropped_stale %llu errors %llu requests %llu discoveries %llu\n",
      all.size(), std::chrono::duration<double>(took).count(),
      static_cast<unsigned long long>(stats.buffer_hits),
      static_cast<unsigned long long>(stats.buffer_misses),
      static_cast<unsigned long long>(stats.refills),
      static_cast<unsigned long long>(stats.failovers),
      static_cast<unsigned long long>(stats.dropped_stale),
      static_cast<unsigned long long>(stats.errors),
      static_cast<unsigned long long>(stats.requests),
      static_cast<unsigned long long>(stats.discoveries));
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_GT(stats.failovers, 0u);
  EXPECT_GT(stats.dropped_stale, 0u);
  EXPECT_GT(stats.buffer_hits, stats.buffer_misses);
  EXPECT_GT(stats.discoveries, 1u);
  // The restarted node took its share after discovery found it.
  EXPECT_GT(Metric(nodes[2]->port(), "snowflake_ids_issued_total").value_or(0),
            0);
}

// Discovery through ZooKeeper, where a node's claim is an ephemeral znode
// of its session: the client takes IDs from every node; a node SIGKILLed
// stays known (refusing connections, skipped) until its session expires and
// the claim with it, then is dropped; a node started later is found and
// serves. A thread takes IDs throughout: no error, no repeat.
TEST(ClientClusterTest, ZooKeeperDiscoveryDropsAnExpiredNodeAndFindsANewOne) {
  constexpr int kSessionSeconds = 4;
  std::unique_ptr<CoordinatorBackend> zookeeper =
      CoordinatorBackend::Start(CoordinatorKind::kZooKeeper, 1);
  ASSERT_NE(zookeeper, nullptr);
  const std::string hosts = ZooKeeperHosts(*zookeeper);
  ASSERT_FALSE(hosts.empty());
  Scenario scenario(zookeeper->NodeFlags(), "zk");
  absl::StatusOr<std::vector<int>> ports = FreePorts(3);
  ASSERT_TRUE(ports.ok()) << ports.status();
  auto spec = [&](const std::string& name, int port) {
    return NodeSpec(name, "", kSessionSeconds,
                    {"--listen", "127.0.0.1:" + std::to_string(port)});
  };
  std::vector<std::unique_ptr<DaemonProcess>> nodes =
      scenario.StartAll({spec("a", (*ports)[0]), spec("b", (*ports)[1])});
  for (const auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();

  ClientOptions options = Discovering("zk");
  options.discovery.zookeeper_hosts = hosts;
  absl::StatusOr<std::unique_ptr<Client>> created = Client::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  Client& client = **created;
  EXPECT_THAT(client.Endpoints(), ::testing::UnorderedElementsAre(
                                      Url((*ports)[0]), Url((*ports)[1])));

  // One thread, Next() and NextBatch() in turn; only it writes these
  // until it is joined.
  std::atomic<bool> stop{false};
  std::vector<uint64_t> ids;
  std::vector<std::string> errors;
  std::thread taker([&] {
    constexpr int64_t kSizes[] = {1, 10, 100, 1000};
    for (int64_t round = 0; !stop.load(); ++round) {
      if (round % 2 == 0) {
        absl::StatusOr<uint64_t> got = client.Next();
        if (got.ok()) {
          ids.push_back(*got);
        } else {
          errors.push_back(std::string(got.status().ToString()));
        }
      } else {
        absl::StatusOr<std::vector<uint64_t>> got =
            client.NextBatch(kSizes[(round / 2) % 4]);
        if (got.ok()) {
          ids.insert(ids.end(), got->begin(), got->end());
        } else {
          errors.push_back(std::string(got.status().ToString()));
        }
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  auto issued = [&](int port) {
    return Metric(port, "snowflake_ids_issued_total").value_or(0) > 0;
  };
  EXPECT_TRUE(Eventually(
      [&] { return issued((*ports)[0]) && issued((*ports)[1]); }, seconds(10)))
      << "not every node issued IDs";

  nodes[0]->Signal(SIGKILL);
  nodes[0]->Wait(seconds(5));
  const auto killed = SteadyClock::now();
  EXPECT_TRUE(Knows(client, Url((*ports)[0])))
      << "dropped before its session could expire";
  EXPECT_TRUE(Eventually([&] { return !Knows(client, Url((*ports)[0])); },
                         seconds(kSessionSeconds + 10)))
      << "the killed node is still known";
  // The session outlives the last ping the node sent, a third of the
  // timeout before the kill at most.
  const milliseconds dropped_after = Since(killed);
  EXPECT_GE(dropped_after, seconds(kSessionSeconds) / 2);
  absl::StatusOr<size_t> claims = zookeeper->ClaimCount("zk");
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(*claims, 1u);

  nodes.push_back(scenario.Start(spec("c", (*ports)[2])));
  ASSERT_TRUE(nodes[2]->ready()) << nodes[2]->Log();
  const auto started = SteadyClock::now();
  EXPECT_TRUE(
      Eventually([&] { return Knows(client, Url((*ports)[2])); }, seconds(5)))
      << "the new node was not found";
  const milliseconds found_after = Since(started);
  EXPECT_TRUE(Eventually([&] { return issued((*ports)[2]); }, seconds(10)))
      << "the new node issued no ID";
  EXPECT_THAT(client.Endpoints(), ::testing::UnorderedElementsAre(
                                      Url((*ports)[1]), Url((*ports)[2])));

  stop.store(true);
  taker.join();
  EXPECT_THAT(errors, SizeIs(0))
      << "first: " << (errors.empty() ? "" : errors.front());
  ASSERT_FALSE(ids.empty());
  std::sort(ids.begin(), ids.end());
  const auto repeat = std::adjacent_find(ids.begin(), ids.end());
  EXPECT_TRUE(repeat == ids.end())
      << "ID " << *repeat << " (worker " << scenario.WorkerOf(*repeat)
      << ") was handed out twice";
  const ClientStats stats = client.Stats();
  std::printf(
      "%zu IDs; killed node dropped after %lld ms, new node found %lld ms "
      "after it was ready; failovers %llu discoveries %llu\n",
      ids.size(), static_cast<long long>(dropped_after.count()),
      static_cast<long long>(found_after.count()),
      static_cast<unsigned long long>(stats.failovers),
      static_cast<unsigned long long>(stats.discoveries));
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_GT(stats.failovers, 0u);  // The killed node, while still known.
  EXPECT_GT(stats.discoveries, 1u);
  EXPECT_EQ(stats.nodes, 2u);
}

TEST(ClientClusterTest, BadInputIsRefusedNamingIt) {
  ClientOptions garbage;
  garbage.endpoints = {"garbage"};
  absl::StatusOr<std::unique_ptr<Client>> refused = Client::Create(garbage);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("\"garbage\""));

  // A node whose largest batch is 1,000: its own 413 comes back as
  // kOutOfRange, never retried; prefetch adapts below it.
  TempDir dir;
  std::unique_ptr<DaemonProcess> node =
      StartNode(dir.path(), {"--max-batch", "1000"});
  ASSERT_TRUE(node->ready()) << node->Log();
  ClientOptions options;
  options.endpoints = {Url(node->port())};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  Client& c = **client;

  absl::StatusOr<std::vector<uint64_t>> ids = c.NextBatch(0);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("got 0"));
  ids = c.NextBatch(100'001);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("100001"));
  EXPECT_EQ(c.Stats().requests, 0u);

  ids = c.NextBatch(5000);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(ids.status().message()),
              AllOf(HasSubstr("413"), HasSubstr("count 5000"),
                    HasSubstr("largest batch, 1000")));
  EXPECT_EQ(c.Stats().requests, 1u);
  ids = c.NextBatch(1000);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, SizeIs(1000));
  for (int i = 0; i < 20'000; ++i) ASSERT_TRUE(c.Next().ok());
}

TEST(ClientClusterTest, CoordinatorWithoutNodesFailsCreateAtOnce) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  const auto start = SteadyClock::now();
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(Discovering(*etcd, "nobody-here"));
  EXPECT_LT(Since(start), seconds(3));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(client.status().message()),
              AllOf(HasSubstr("cluster \"nobody-here\" has no node"),
                    HasSubstr("/snowflake/nobody-here/workers/")));
}

TEST(ClientClusterTest, AllNodesDownFailsWithinTheDeadline) {
  TempDir dir_a;
  TempDir dir_b;
  std::unique_ptr<DaemonProcess> a = StartNode(dir_a.path());
  std::unique_ptr<DaemonProcess> b = StartNode(dir_b.path());
  ASSERT_TRUE(a->ready() && b->ready()) << a->Log() << b->Log();
  ClientOptions options;
  options.endpoints = {Url(a->port()), Url(b->port())};
  options.deadline = milliseconds(1000);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Next().ok());  // Connections now kept alive.

  a->Signal(SIGKILL);
  b->Signal(SIGKILL);
  a->Wait(seconds(5));
  b->Wait(seconds(5));
  // What the buffer still holds is handed out until it runs out or goes
  // stale; then every call fails, each within the deadline.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::vector<uint64_t>> batch = (*client)->NextBatch(10);
    EXPECT_FALSE(batch.ok());
  }
  int failed = 0;
  const auto start = SteadyClock::now();
  while (failed < 3 && Since(start) < seconds(20)) {
    const auto call = SteadyClock::now();
    absl::StatusOr<uint64_t> id = (*client)->Next();
    if (id.ok()) continue;
    ++failed;
    EXPECT_LE(Since(call), milliseconds(1000 + 100));
    EXPECT_TRUE(absl::IsUnavailable(id.status()) ||
                absl::IsDeadlineExceeded(id.status()))
        << id.status();
    EXPECT_THAT(std::string(id.status().message()), HasSubstr(Url(a->port())));
  }
  EXPECT_EQ(failed, 3);
}

TEST(ClientClusterTest, CliGetAndTheExampleTakeIdsFromACluster) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd();
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "cli");
  absl::StatusOr<std::vector<int>> ports = FreePorts(2);
  ASSERT_TRUE(ports.ok()) << ports.status();
  std::vector<std::unique_ptr<DaemonProcess>> nodes =
      scenario.StartAll({Node("a", (*ports)[0]), Node("b", (*ports)[1])});
  for (const auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();
  const std::string urls = JoinUrls(etcd->ClientUrls());
  const std::string out = scenario.dir() + "/out";

  // Decimal, one a line, from nodes found on etcd.
  absl::StatusOr<std::string> text =
      RunCommand({SNOWFLAKE_CLI_PATH, "get", "-n", "5", "--etcd", urls,
                  "--cluster", "cli"},
                 out, {}, seconds(20));
  ASSERT_TRUE(text.ok()) << text.status();
  std::istringstream lines(*text);
  std::vector<uint64_t> ids;
  for (std::string line; std::getline(lines, line);) {
    ids.push_back(std::stoull(line));
  }
  ASSERT_THAT(ids, SizeIs(5)) << *text;
  for (uint64_t id : ids) EXPECT_GE(scenario.WorkerOf(id), 0);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));  // One batch.

  // Binary, in batches, from listed nodes: 8 bytes each.
  absl::StatusOr<std::string> binary = RunCommand(
      {SNOWFLAKE_CLI_PATH, "get", "-n", "150000", "--no-prefetch", "--format",
       "binary", "--endpoints", Url((*ports)[0]) + "," + Url((*ports)[1])},
      out, {}, seconds(20));
  ASSERT_TRUE(binary.ok()) << binary.status();
  std::vector<uint64_t> decoded = DecodeBinary(*binary);
  ASSERT_THAT(decoded, SizeIs(150000));
  std::sort(decoded.begin(), decoded.end());
  EXPECT_TRUE(std::adjacent_find(decoded.begin(), decoded.end()) ==
              decoded.end());

  // The example: five IDs one by one, a batch of 1,000, its counters.
  absl::StatusOr<std::string> example =
      RunCommand({EXAMPLE_CLIENT_PATH, "--etcd", urls, "--cluster", "cli"}, out,
                 {}, seconds(20));
  ASSERT_TRUE(example.ok()) << example.status();
  std::istringstream example_lines(*example);
  std::vector<std::string> got;
  for (std::string line; std::getline(example_lines, line);) {
    got.push_back(line);
  }
  ASSERT_THAT(got, SizeIs(7)) << *example;
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(got[i], ::testing::MatchesRegex(
                            "next [0-9]+ worker [0-9]+ sequence [0-9]+ "
                            "time_ms [0-9]+"));
  }
  EXPECT_THAT(got[5], ::testing::StartsWith("batch 1000 ids, first "));
  EXPECT_THAT(got[6], AllOf(::testing::StartsWith("stats nodes 2 "),
                            HasSubstr(" errors 0")));
}

}  // namespace
}  // namespace snowflake::testing
