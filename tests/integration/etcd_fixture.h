// Shared by the end-to-end tests of coordinator mode: real snowflaked
// processes on free loopback ports with `--coordinator etcd` (real etcd,
// EtcdLauncher) or any coordinator's flags (testing/coordinator_backend.h),
// client threads that take IDs and record every reply, and a ledger of every ID
// handed out, decoded with the layout, checked for repeats.
#ifndef SNOWFLAKE_TESTS_INTEGRATION_ETCD_FIXTURE_H_
#define SNOWFLAKE_TESTS_INTEGRATION_ETCD_FIXTURE_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "snowflake/layout.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "testing/coordinator_backend.h"
#include "testing/daemon_process.h"
#include "testing/etcd_launcher.h"
#include "testing/etcd_test_util.h"
#include "testing/raw_http.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline milliseconds Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

inline int64_t WallMillis() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one node of a test cluster is started with.
struct NodeSpec {
  // Implicit, so that tests list nodes as {{"a"}, {"b", "0-1", 2}}.
  NodeSpec(std::string name,  // NOLINT(google-explicit-constructor)
           std::string range = "", int ttl_seconds = 2,
           std::vector<std::string> extra_args = {},
           std::vector<std::pair<std::string, std::string>> env = {})
      : name(std::move(name)),
        range(std::move(range)),
        ttl_seconds(ttl_seconds),
        extra_args(std::move(extra_args)),
        env(std::move(env)) {}

  std::string name;
  std::string range;  // "A-B"; empty: the layout's whole range.
  // The etcd lease TTL, or the ZooKeeper session timeout.
  int ttl_seconds;
  std::vector<std::string> extra_args;
  std::vector<std::pair<std::string, std::string>> env;
};
using EtcdNodeSpec = NodeSpec;

// Everything a coordinator-mode scenario shares: one temp directory, the
// coordinator's flags, the cluster name, and the ledger of every ID any
// node handed out.
class Scenario {
 public:
  Scenario(const EtcdLauncher& etcd, std::string cluster)
      : Scenario(EtcdFlags(JoinUrls(etcd.ClientUrls())), std::move(cluster)) {}
  Scenario(std::string urls, std::string cluster)
      : Scenario(EtcdFlags(std::move(urls)), std::move(cluster)) {}
  Scenario(CoordinatorFlags flags, std::string cluster)
      : flags_(std::move(flags)), cluster_(std::move(cluster)) {}

  const std::string& dir() const { return dir_.path(); }
  const std::string& cluster() const { return cluster_; }
  const Layout& layout() const { return layout_; }

  // The flags of a node; the state dir is per node name, so a restart of
  // the same name finds its identity file.
  std::vector<std::string> Args(const NodeSpec& spec) const {
    std::vector<std::string> args = flags_(spec.ttl_seconds);
    args.insert(args.end(),
                {"--cluster", cluster_, "--node-name", spec.name, "--state-dir",
                 dir() + "/" + spec.name, "--threads", "2"});
    if (!spec.range.empty()) {
      args.push_back("--worker-range");
      args.push_back(spec.range);
    }
    args.insert(args.end(), spec.extra_args.begin(), spec.extra_args.end());
    return args;
  }

  // Starts a node and waits until it is ready or has exited.
  std::unique_ptr<DaemonProcess> Start(const NodeSpec& spec) {
    return Launch(spec, NextLogBase(spec));
  }

  // Starts a node once (no second try on a coordinator error) and waits up to
  // `ready_timeout` until it is ready or has exited: for nodes whose start
  // is the point of the test.
  std::unique_ptr<DaemonProcess> StartOnce(const NodeSpec& spec,
                                           milliseconds ready_timeout) {
    DaemonOptions options;
    options.binary = SnowflakedBinary();
    options.args = Args(spec);
    options.env = spec.env;
    options.ready_timeout = ready_timeout;
    options.log_path = NextLogBase(spec) + ".log";
    return DaemonProcess::Start(options);
  }

  // Starts several nodes at once (each Start on its own thread).
  std::vector<std::unique_ptr<DaemonProcess>> StartAll(
      const std::vector<NodeSpec>& specs) {
    std::vector<std::unique_ptr<DaemonProcess>> nodes(specs.size());
    std::vector<std::string> log_bases;
    log_bases.reserve(specs.size());
    for (const NodeSpec& spec : specs) {
      log_bases.push_back(NextLogBase(spec));
    }
    std::vector<std::thread> threads;
    for (size_t i = 0; i < specs.size(); ++i) {
      threads.emplace_back(
          [&, i] { nodes[i] = Launch(specs[i], log_bases[i]); });
    }
    for (std::thread& t : threads) t.join();
    return nodes;
  }

  // Adds IDs some node handed out.
  void Record(const std::vector<uint64_t>& ids) {
    std::lock_guard<std::mutex> lock(mu_);
    all_.insert(all_.end(), ids.begin(), ids.end());
  }

  // The worker ID an ID carries.
  int64_t WorkerOf(uint64_t id) const {
    absl::StatusOr<IdParts> parts = layout_.Decompose(id);
    return parts.ok() ? parts->worker : -1;
  }
  // The Unix ms of an ID's tick.
  int64_t MillisOf(uint64_t id) const {
    absl::StatusOr<IdParts> parts = layout_.Decompose(id);
    return parts.ok() ? layout_.MillisOfTick(parts->tick) : -1;
  }

  // No ID recorded so far repeats; returns how many there are.
  size_t ExpectAllUnique() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint64_t> sorted = all_;
    std::sort(sorted.begin(), sorted.end());
    const auto repeat = std::adjacent_find(sorted.begin(), sorted.end());
    EXPECT_TRUE(repeat == sorted.end())
        << "ID " << *repeat << " (worker " << WorkerOf(*repeat)
        << ") was issued twice, among " << sorted.size() << " IDs";
    return sorted.size();
  }

 private:
  std::string NextLogBase(const NodeSpec& spec) {
    std::filesystem::create_directories(dir() + "/" + spec.name);
    return dir() + "/" + spec.name + "." + std::to_string(++runs_);
  }

  // Starts one node. A start that fails on a transient coordinator error
  // (etcd or ZooKeeper answering slowly on a loaded machine; the node exits,
  // as it should, and a supervisor would start it again) is tried twice
  // more, with a note on stdout; a TLS failure is not transient.
  std::unique_ptr<DaemonProcess> Launch(const NodeSpec& spec,
                                        const std::string& log_base) {
    DaemonOptions options;
    options.binary = SnowflakedBinary();
    options.args = Args(spec);
    options.env = spec.env;
    options.ready_timeout = std::chrono::seconds(30);
    for (int attempt = 1;; ++attempt) {
      options.log_path = log_base + "." + std::to_string(attempt) + ".log";
      std::unique_ptr<DaemonProcess> node = DaemonProcess::Start(options);
      if (node->ready() || attempt == 3) return node;
      node->Wait(std::chrono::seconds(5));
      const std::string log = node->Log();
      const bool transient =
          log.find("start_failed error=\"UNAVAILABLE: etcd") !=
              std::string::npos ||
          log.find("start_failed error=\"UNAVAILABLE: ZooKeeper") !=
              std::string::npos;
      if (!transient || log.find("TLS") != std::string::npos) return node;
      std::printf(
          "note: node %s failed to start on a coordinator error; again:\n%s",
          spec.name.c_str(), log.c_str());
    }
  }

  TempDir dir_;
  const CoordinatorFlags flags_;
  const std::string cluster_;
  const Layout layout_;  // The default, which every node here uses.
  int runs_ = 0;
  std::mutex mu_;
  std::vector<uint64_t> all_;
};

// Takes `count` IDs in one binary batch; records them in `scenario`.
// Returns the HTTP status (0: no answer) and the IDs.
inline std::pair<int, std::vector<uint64_t>> TakeIds(Scenario& scenario,
                                                     int port, int count) {
  std::optional<HttpReply> reply =
      HttpGet(port, "/v1/ids?count=" + std::to_string(count),
              "application/octet-stream");
  if (!reply) return {0, {}};
  if (reply->status != 200) return {reply->status, {}};
  std::vector<uint64_t> ids = DecodeBinary(reply->body);
  scenario.Record(ids);
  return {200, std::move(ids)};
}

// Takes `rounds` batches of `count` from a node; returns them all. A 503
// is retried for a while: on a loaded machine the coordinator or the node
// may stall past a 2 s session, and the node then fences itself and
// acquires again by itself, which these scenarios do not test.
inline std::vector<uint64_t> TakeSome(Scenario& scenario, DaemonProcess& node,
                                      int rounds = 5, int count = 1000) {
  std::vector<uint64_t> all;
  for (int i = 0; i < rounds; ++i) {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(15);
    int status = 0;
    std::vector<uint64_t> ids;
    while (true) {
      std::tie(status, ids) = TakeIds(scenario, node.port(), count);
      if (status != 503 || SteadyClock::now() > deadline) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(status, 200) << node.Log();
    all.insert(all.end(), ids.begin(), ids.end());
  }
  return all;
}

inline uint64_t Max(const std::vector<uint64_t>& ids) {
  return ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
}
inline uint64_t Min(const std::vector<uint64_t>& ids) {
  return ids.empty() ? 0 : *std::min_element(ids.begin(), ids.end());
}

inline int Status(int port, const std::string& target) {
  std::optional<HttpReply> reply = HttpGet(port, target);
  return reply ? reply->status : 0;
}

// The value of a metric series without labels, or nullopt.
inline std::optional<double> Metric(int port, const std::string& series) {
  std::optional<HttpReply> reply = HttpGet(port, "/metrics");
  if (!reply) return std::nullopt;
  const size_t at = reply->body.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(reply->body.c_str() + at + series.size() + 2, nullptr);
}

// One request a Load made.
struct LoadReply {
  SteadyClock::time_point sent;
  SteadyClock::time_point received;
  int status = 0;  // 0: no answer (connection broke or timed out).
  std::vector<uint64_t> ids;
  std::string error;  // The body of a reply other than 200.
};

// A client thread that takes batches of IDs from one node on a keep-alive
// connection until stopped, reconnecting after a failure, and records
// every reply (and every ID in the scenario's ledger).
class Load {
 public:
  Load(Scenario& scenario, int port, int batch = 100,
       milliseconds pause = milliseconds(5),
       milliseconds read_timeout = milliseconds(20000))
      : scenario_(scenario) {
    thread_ = std::thread([this, port, batch, pause, read_timeout] {
      const std::string request = "GET /v1/ids?count=" + std::to_string(batch) +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Accept: application/octet-stream\r\n\r\n";
      auto connection = std::make_unique<RawHttpConnection>(port);
      while (!stop_.load()) {
        LoadReply reply;
        reply.sent = SteadyClock::now();
        std::optional<HttpReply> http;
        if (connection->connected() && connection->Send(request)) {
          http = connection->Read(read_timeout);
        }
        reply.received = SteadyClock::now();
        if (http) {
          reply.status = http->status;
          if (http->status == 200) {
            reply.ids = DecodeBinary(http->body);
            scenario_.Record(reply.ids);
          } else {
            reply.error = http->body;
          }
        } else {
          connection = std::make_unique<RawHttpConnection>(port);
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          replies_.push_back(std::move(reply));
        }
        std::this_thread::sleep_for(http ? pause : milliseconds(50));
      }
    });
  }
  ~Load() { Stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  std::vector<LoadReply> Replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

  // Replies received in [from, to) with status 200.
  size_t OkBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
    size_t ok = 0;
    for (const LoadReply& r : Replies()) {
      ok += r.status == 200 && r.received >= from && r.received < to;
    }
    return ok;
  }

 private:
  Scenario& scenario_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<LoadReply> replies_;
  std::thread thread_;
};

// The single worker ID of `ids`, or -1 if they carry several (or none).
inline int64_t OnlyWorker(const Scenario& scenario,
                          const std::vector<uint64_t>& ids) {
  int64_t worker = -1;
  for (uint64_t id : ids) {
    const int64_t w = scenario.WorkerOf(id);
    if (worker != -1 && w != worker) return -1;
    worker = w;
  }
  return worker;
}

// The number after "key=" in the last log line holding it, or nullopt.
inline std::optional<int64_t> LogNumber(const std::string& log,
                                        const std::string& key) {
  const size_t at = log.rfind(key + "=");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoll(log.c_str() + at + key.size() + 1, nullptr, 10);
}

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTS_INTEGRATION_ETCD_FIXTURE_H_
