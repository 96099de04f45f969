#include "src/server/cluster_status.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/cluster_schema.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr char kPrefix[] = "/snowflake";

StoredEntry Claim(int64_t id, const std::string& node,
                  const std::string& region, std::optional<int64_t> left) {
  cluster_schema::Holder holder;
  holder.node = node;
  holder.worker_id = id;
  holder.addresses = {"127.0.0.1:" + std::to_string(8000 + id),
                      "grpc://127.0.0.1:9000"};
  holder.region = region;
  StoredEntry entry;
  entry.key = cluster_schema::WorkerKey(kPrefix, "prod", id);
  entry.value = cluster_schema::EncodeHolder(holder);
  entry.lease = "42";
  entry.lease_left_seconds = left;
  return entry;
}

StoredEntry Mark(int64_t id, int64_t millis) {
  StoredEntry entry;
  entry.key = cluster_schema::HwmKey(kPrefix, "prod", id);
  entry.value = cluster_schema::EncodeHwm(millis);
  return entry;
}

ClusterStatusOptions Options(const std::string& regions) {
  ClusterStatusOptions options;
  options.coordinator = "etcd";
  options.cluster = "prod";
  options.node = "a";
  options.regions = *RegionMap::Parse(regions);
  options.workers = WorkerRange{0, 1023};
  return options;
}

// The snapshot three nodes leave: a and b in eu, c in us; a mark for a free
// ID and one claim that does not parse.
ClusterSnapshot ThreeNodes() {
  std::vector<StoredEntry> claims = {Claim(1, "a", "eu", 7),
                                     Claim(2, "b", "eu", 9),
                                     Claim(600, "c", "us", std::nullopt)};
  StoredEntry bad;
  bad.key = cluster_schema::WorkerKey(kPrefix, "prod", 3);
  bad.value = "not json";
  bad.lease_error = "expired";
  claims.push_back(bad);
  return MakeClusterSnapshot("41/10/12", std::move(claims),
                             {Mark(1, 10'500), Mark(5, 9'000)});
}

TEST(ClusterJsonTest, HoldersAndFreeIdsPerRegion) {
  ClusterReading reading;
  reading.snapshot = ThreeNodes();
  reading.read_ms = 9'900;
  const Json json =
      ClusterJson(Options("eu=0-511,us=512-1023"), reading, 10'000);
  EXPECT_EQ(json["coordinator"], "etcd");
  EXPECT_EQ(json["cluster"], "prod");
  EXPECT_EQ(json["read_ms"], 9'900);
  EXPECT_EQ(json["age_ms"], 100);
  EXPECT_EQ(json["reading"], false);
  EXPECT_TRUE(json["error"].is_null());

  const Json& holders = json["holders"];
  ASSERT_EQ(holders.size(), 4u) << json.dump(2);
  EXPECT_EQ(holders[0]["worker_id"], 1);
  EXPECT_EQ(holders[0]["node"], "a");
  EXPECT_EQ(holders[0]["region"], "eu");
  EXPECT_EQ(holders[0]["addresses"],
            Json::array({"127.0.0.1:8001", "grpc://127.0.0.1:9000"}));
  EXPECT_EQ(holders[0]["self"], true);
  EXPECT_EQ(holders[0]["hwm_ms"], 10'500);
  EXPECT_EQ(holders[0]["hwm_ahead_ms"], 500);
  EXPECT_EQ(holders[0]["lease_left_s"], 7);
  EXPECT_FALSE(holders[0].contains("bad_entry"));
  EXPECT_EQ(holders[1]["node"], "b");
  EXPECT_EQ(holders[1]["self"], false);
  EXPECT_TRUE(holders[1]["hwm_ms"].is_null());
  EXPECT_TRUE(holders[1]["hwm_ahead_ms"].is_null());
  // The unreadable claim is held all the same, and says so.
  EXPECT_EQ(holders[2]["worker_id"], 3);
  EXPECT_EQ(holders[2]["bad_entry"], "not json");
  EXPECT_EQ(holders[2]["lease_error"], "expired");
  EXPECT_EQ(holders[2]["self"], false);
  // ZooKeeper's, or a lease not found: no time left.
  EXPECT_EQ(holders[3]["worker_id"], 600);
  EXPECT_TRUE(holders[3]["lease_left_s"].is_null());

  // A free ID with a stored mark is no holder; regions by name.
  EXPECT_EQ(json["free"], Json::parse(R"([
      {"region": "eu", "first": 0, "last": 511, "held": 3, "free": 509},
      {"region": "us", "first": 512, "last": 1023, "held": 1, "free": 511}
  ])"));
}

TEST(ClusterJsonTest, WithoutRegionsFreeIdsOfTheWholeLayout) {
  ClusterReading reading;
  reading.snapshot = ThreeNodes();
  reading.read_ms = 1;
  const Json json = ClusterJson(Options(""), reading, 2);
  EXPECT_EQ(json["free"], Json::parse(R"([
      {"region": "", "first": 0, "last": 1023, "held": 4, "free": 1020}
  ])"));
}

TEST(ClusterJsonTest, ErrorsInWordsKeepingTheLastReading) {
  ClusterReading reading;
  reading.error = absl::UnavailableError("etcd http://127.0.0.1:1: refused");
  Json json = ClusterJson(Options(""), reading, 5'000);
  EXPECT_EQ(json["error"],
            "coordinator unreachable: etcd http://127.0.0.1:1: refused");
  EXPECT_EQ(json["reading"], false);
  EXPECT_EQ(json["holders"], Json::array());
  EXPECT_EQ(json["free"], Json::array());

  reading.error = absl::PermissionDeniedError("bad password");
  reading.snapshot = ThreeNodes();
  reading.read_ms = 2'000;
  json = ClusterJson(Options(""), reading, 5'000);
  EXPECT_EQ(json["error"], "cannot read the cluster from etcd: bad password");
  EXPECT_EQ(json["age_ms"], 3'000);
  EXPECT_EQ(json["holders"].size(), 4u);
}

// A coordinator that does not answer holds up no request: the first ones
// say the read is under way, and one read serves many requests.
TEST(ClusterStatusTest, NeverWaitsForTheCoordinatorAndReadsAtMostOnce) {
  std::atomic<bool> release{false};
  std::atomic<int> reads{0};
  ClusterStatusOptions options = Options("");
  options.refresh = milliseconds(60'000);
  ClusterStatus status(
      options,
      [&]() -> absl::StatusOr<ClusterSnapshot> {
        reads.fetch_add(1);
        // Bounded, so that a ToJson that waits for it fails rather than
        // hangs.
        for (int i = 0; i < 2'000 && !release.load(); ++i) {
          std::this_thread::sleep_for(milliseconds(1));
        }
        return ThreeNodes();
      },
      [] { return int64_t{1'000}; });

  const auto asked = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    const Json json = status.ToJson(1'000);
    EXPECT_EQ(json["reading"], true);
    EXPECT_EQ(json["holders"], Json::array());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(500));
  release.store(true);
  Json json = status.ToJson(1'000);
  for (int i = 0; i < 500 && json["read_ms"] == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    json = status.ToJson(1'000);
  }
  EXPECT_EQ(json["read_ms"], 1'000);
  EXPECT_EQ(json["reading"], false);
  EXPECT_EQ(json["holders"].size(), 4u);
  EXPECT_EQ(reads.load(), 1);
}

// Past the refresh interval, a request starts a new read; a failed one
// keeps the last reading beside its error.
TEST(ClusterStatusTest, ReadsAgainAfterTheIntervalAndKeepsTheLastReading) {
  std::atomic<int> reads{0};
  ClusterStatusOptions options = Options("");
  options.refresh = milliseconds(20);
  ClusterStatus status(
      options,
      [&]() -> absl::StatusOr<ClusterSnapshot> {
        if (reads.fetch_add(1) == 0) return ThreeNodes();
        return absl::DeadlineExceededError("deadline exceeded");
      },
      [] { return int64_t{1'000}; });
  Json json;
  for (int i = 0; i < 500; ++i) {
    json = status.ToJson(1'500);
    if (!json["error"].is_null()) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(reads.load(), 2);
  EXPECT_THAT(json["error"].get<std::string>(),
              HasSubstr("coordinator unreachable: deadline exceeded"));
  EXPECT_EQ(json["holders"].size(), 4u);
  EXPECT_EQ(json["age_ms"], 500);
}

}  // namespace
}  // namespace snowflake
