#include "src/server/metrics.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

NodeStatus SampleStatus() {
  WorkerStatus worker;
  worker.started = true;
  worker.lease.worker_id = 12;
  worker.high_water_mark_tick = 15'000;  // 5 s ahead.
  worker.generator.exhausted_waits = 4;
  worker.generator.backwards_events = 2;
  worker.generator.max_drift_millis = 1500;
  worker.generator.clock_wait_micros = 2'500'000;
  NodeStatus status;
  status.workers.push_back(worker);
  status.Combine();
  status.ready = true;
  status.now_micros = (kDefaultEpochMillis + 10'000) * 1000;
  status.clock_source = "wall";
  status.name = "n1";
  status.cluster = "c1";
  status.region = "eu";
  status.hwm_reserve_millis = 5000;
  status.start_unix_millis = 1'700'000'000'000;
  return status;
}

internal::ProcessStats SampleProcess() {
  internal::ProcessStats process;
  process.cpu_seconds = 1.25;
  process.resident_bytes = 4096;
  process.virtual_bytes = 8192;
  process.open_fds = 9;
  process.max_fds = 1024;
  return process;
}

TEST(MetricsTest, CountsRequestsAcrossThreads) {
  Metrics metrics({"v", "41/10/12", "static"});
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) {
        metrics.RecordRequest(Route::kIds, 200, 30'000);
        metrics.AddIdsIssued(10);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(metrics.requests(Route::kIds, 200), 8000u);
  EXPECT_EQ(metrics.ids_issued(), 80000u);
}

TEST(MetricsTest, RendersEveryFamily) {
  Metrics metrics({"1.0", "41/10/12", "static"});
  metrics.RecordRequest(Route::kId, 200, 70'000);         // 2nd bucket.
  metrics.RecordRequest(Route::kId, 503, 2'000'000'000);  // +Inf only.
  metrics.RecordRequest(Route::kOther, 418, 1);           // code="other".
  metrics.RecordRequest(Route::kInfo, 200, 4'000);        // 1st bucket.
  metrics.AddIdsIssued(3);
  const std::string out = metrics.Render(SampleStatus(), SampleProcess());
  for (const char* family :
       {"snowflake_ids_issued_total 3\n",
        "snowflake_http_requests_total{transport=\"http\",route=\"/v1/id\","
        "code=\"200\"} 1\n",
        "snowflake_http_requests_total{transport=\"http\",route=\"/v1/id\","
        "code=\"503\"} 1\n",
        "snowflake_http_requests_total{transport=\"http\",route=\"other\","
        "code=\"other\"} 1\n",
        // Lines too long for one literal are split in two, not missing a
        // comma. NOLINTNEXTLINE(bugprone-suspicious-missing-comma)
        "snowflake_http_request_duration_seconds_bucket{transport=\"http\","
        "route=\"/v1/id\",le=\"5e-05\"} 0\n",
        "snowflake_http_request_duration_seconds_bucket{transport=\"http\","
        "route=\"/v1/id\",le=\"0.0001\"} 1\n",
        "snowflake_http_request_duration_seconds_bucket{transport=\"http\","
        "route=\"/v1/id\",le=\"+Inf\"} 2\n",
        "snowflake_http_request_duration_seconds_count{transport=\"http\","
        "route=\"/v1/id\"} 2\n",
        "snowflake_sequence_exhausted_waits_total 4\n",
        "snowflake_clock_backwards_total 2\n",
        "snowflake_clock_backwards_max_drift_seconds 1.5\n",
        "snowflake_clock_wait_seconds_total 2.5\n", "snowflake_worker_id 12\n",
        "snowflake_hwm_headroom_seconds 5\n", "snowflake_ready 1\n",
        "snowflake_clock_synchronized ",
        "snowflake_clock_estimated_error_seconds ",
        "snowflake_clock_offset_seconds ",
        "snowflake_clock_monotonic_gap_seconds 0\n",
        "snowflake_time_range_remaining_seconds ",
        "snowflake_http_request_duration_seconds_bucket{transport=\"http\","
        "route=\"/v1/info\",le=\"5e-06\"} 1\n",
        "snowflake_build_info{version=\"1.0\",layout=\"41/10/12\","
        "mode=\"static\",clock=\"wall\"} 1\n",
        "snowflake_node_info{node=\"n1\",cluster=\"c1\",region=\"eu\","
        "mode=\"static\"} 1\n",
        "snowflake_lease_ttl_seconds -1\n", "snowflake_hwm_reserve_seconds 5\n",
        "snowflake_layout_capacity_ids_per_second 4096000\n",
        "process_cpu_seconds_total 1.25\n",
        "process_resident_memory_bytes 4096\n",
        "process_virtual_memory_bytes 8192\n", "process_open_fds 9\n",
        "process_max_fds 1024\n", "process_start_time_seconds 1700000000\n"}) {
    EXPECT_THAT(out, HasSubstr(family));
  }
}

// gRPC calls share the request families, told apart by transport="grpc",
// with the method as the route and gRPC's code name as the code.
TEST(MetricsTest, GrpcCallsCarryTheirTransportAndCodeName) {
  Metrics metrics({"1.0", "41/10/12", "static"});
  std::string out = metrics.Render(SampleStatus(), SampleProcess());
  // No gRPC series before a call: most nodes serve none.
  EXPECT_THAT(out, Not(HasSubstr("transport=\"grpc\"")));
  metrics.RecordGrpcCall(GrpcMethod::kNextIds, absl::StatusCode::kOk, 20'000);
  metrics.RecordGrpcCall(GrpcMethod::kNextIds,
                         absl::StatusCode::kInvalidArgument, 3'000);
  metrics.RecordGrpcCall(GrpcMethod::kStreamIds, absl::StatusCode::kUnavailable,
                         2'000'000'000);
  metrics.RecordRequest(Route::kIds, 200, 1'000);
  EXPECT_EQ(metrics.grpc_calls(GrpcMethod::kNextIds, absl::StatusCode::kOk),
            1u);
  EXPECT_EQ(metrics.requests(Route::kIds, 200), 1u);
  out = metrics.Render(SampleStatus(), SampleProcess());
  for (const char* series : {
           "snowflake_http_requests_total{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/NextIds\",code=\"OK\"} 1\n",
           "snowflake_http_requests_total{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/NextIds\","
           "code=\"INVALID_ARGUMENT\"} 1\n",
           "snowflake_http_requests_total{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/StreamIds\","
           "code=\"UNAVAILABLE\"} 1\n",
           "snowflake_http_requests_total{transport=\"http\","
           "route=\"/v1/ids\",code=\"200\"} 1\n",
           "snowflake_http_request_duration_seconds_bucket{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/NextIds\",le=\"5e-06\"} 1\n",
           "snowflake_http_request_duration_seconds_count{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/NextIds\"} 2\n",
           "snowflake_http_request_duration_seconds_bucket{transport=\"grpc\","
           "route=\"/snowflake.v1.IdService/StreamIds\",le=\"1\"} 0\n",
       }) {
    EXPECT_THAT(out, HasSubstr(series));
  }
  // A route never called over gRPC stays out.
  EXPECT_THAT(out, Not(HasSubstr("IdService/Decode")));
}

TEST(MetricsTest, WorkerIdsOfTheRangeOnlyWithACoordinator) {
  Metrics metrics({"1.0", "41/10/12", "etcd"});
  NodeStatus status = SampleStatus();
  std::string out = metrics.Render(status, SampleProcess());
  EXPECT_THAT(out, Not(HasSubstr("snowflake_cluster_worker_ids{")));
  EXPECT_THAT(out, Not(HasSubstr("snowflake_cluster_worker_ids_free{")));
  status.lease.range_size = 64;
  status.lease.range_free = 61;
  status.lease.ttl_millis = 10'000;
  out = metrics.Render(status, SampleProcess());
  EXPECT_THAT(out, HasSubstr("snowflake_cluster_worker_ids{cluster=\"c1\","
                             "region=\"eu\"} 64\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_cluster_worker_ids_free{cluster=\"c1\","
                             "region=\"eu\"} 61\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_lease_ttl_seconds 10\n"));
}

// A node with several workers shows each worker ID it holds, how many it
// wanted, and its counters summed; the headroom is the soonest worker's.
TEST(MetricsTest, EveryWorkerIdANodeHoldsIsShown) {
  Metrics metrics({"1.0", "41/10/12", "etcd"});
  NodeStatus status = SampleStatus();
  WorkerStatus second = status.workers.front();
  second.lease.worker_id = 13;
  second.high_water_mark_tick = 12'000;  // 2 s ahead: the sooner.
  second.generator.exhausted_waits = 6;
  WorkerStatus short_one;  // Its range was full: it holds nothing.
  status.workers.push_back(second);
  status.workers.push_back(short_one);
  status.Combine();
  const std::string out = metrics.Render(status, SampleProcess());
  EXPECT_THAT(out, HasSubstr("snowflake_worker{cluster=\"c1\",region=\"eu\","
                             "worker_id=\"12\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_worker{cluster=\"c1\",region=\"eu\","
                             "worker_id=\"13\"} 1\n"));
  EXPECT_THAT(out, Not(HasSubstr("worker_id=\"-1\"")));
  EXPECT_THAT(out, HasSubstr("snowflake_workers_wanted 3\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_workers_held 2\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_worker_id 12\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_sequence_exhausted_waits_total 10\n"));
  EXPECT_THAT(out, HasSubstr("snowflake_hwm_headroom_seconds 2\n"));
}

// The status page's charts: IDs issued, and the latency of the requests
// that issue them (not of /v1/info's, nor of the page's own polling).
TEST(MetricsTest, HistoryCountsIdsAndTheLatencyOfIdRequests) {
  Metrics metrics({"1.0", "41/10/12", "static"});
  EXPECT_TRUE(metrics.RecentHistory(1'000'000).empty());  // The baseline.
  metrics.AddIdsIssued(50);
  metrics.RecordRequest(Route::kId, 200, 3'000);
  metrics.RecordGrpcCall(GrpcMethod::kNextIds, absl::StatusCode::kOk, 3'000);
  metrics.RecordRequest(Route::kInfo, 200, 900'000'000);
  metrics.RecordRequest(Route::kStatus, 200, 900'000'000);
  const auto history = metrics.RecentHistory(1'002'000);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].unix_ms, 1'002'000);
  EXPECT_DOUBLE_EQ(history[1].ids_per_second, 25);
  EXPECT_DOUBLE_EQ(history[1].requests_per_second, 1);
  EXPECT_LE(history[1].p99_ms, 0.005);
  EXPECT_GT(history[1].p50_ms, 0);
}

TEST(MetricsTest, StatusPageRoutesHaveTheirNames) {
  EXPECT_EQ(RouteName(Route::kStatus), "/v1/status");
  EXPECT_EQ(RouteName(Route::kPage), "/");
  EXPECT_EQ(RouteName(Route::kOther), "other");
}

TEST(MetricsTest, UnreadableProcessFieldsAreLeftOut) {
  Metrics metrics({"1.0", "41/10/12", "static"});
  const std::string out =
      metrics.Render(SampleStatus(), internal::ProcessStats{});
  EXPECT_THAT(out, Not(HasSubstr("process_open_fds")));
  EXPECT_THAT(out, Not(HasSubstr("process_cpu_seconds_total")));
  EXPECT_THAT(out, HasSubstr("process_start_time_seconds 1700000000\n"));
}

TEST(MetricsTest, PassesPromtool) {
  const char* promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) GTEST_SKIP() << "no promtool";
  Metrics metrics({"1.0 \"quoted\"", "41/10/12", "static"});
  metrics.RecordRequest(Route::kDecode, 400, 5000);
  metrics.RecordGrpcCall(GrpcMethod::kInfo, absl::StatusCode::kOk, 5000);
  const std::string path =
      (std::filesystem::temp_directory_path() / "metrics_test.prom").string();
  {
    std::ofstream file(path);
    file << metrics.Render(SampleStatus(), SampleProcess());
  }
  const std::string command =
      std::string(promtool) + " check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[256];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  EXPECT_EQ(pclose(pipe), 0) << output;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snowflake
