#include "src/server/internal/id_service_core.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "snowflake/status.h"
#include "src/lease/static_lease.h"
#include "testing/simulated_clock.h"

namespace snowflake::internal {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kStartMicros = 1767225600000LL * 1000;  // 2026-01-01.
constexpr int64_t kMaxBatch = 5000;

class IdServiceCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "id_service_test.XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto clock = std::make_unique<testing::SimulatedClock>(kStartMicros);
    clock_ = clock.get();
    NodeOptions options;
    options.name = "grpc-node";
    options.region = "eu";
    options.cluster = "c1";
    node_ = std::make_unique<Node>(options, std::move(clock),
                                   std::make_unique<StaticLease>(700, dir_));
    metrics_ =
        std::make_unique<Metrics>(BuildInfo{"1.2.3", "41/10/12", "static"});
    IdServiceOptions service;
    service.max_batch = kMaxBatch;
    service.max_waiting_ids = kMaxBatch;
    service.version = "1.2.3";
    auto regions = RegionMap::Parse("us=0-341,eu=342-1023");
    ASSERT_TRUE(regions.ok());
    service.regions = *regions;
    core_ = std::make_unique<IdServiceCore>(service, *node_, *metrics_);
  }

  void TearDown() override {
    core_.reset();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start() { ASSERT_TRUE(node_->Start().ok()); }

  std::string dir_;
  testing::SimulatedClock* clock_ = nullptr;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<IdServiceCore> core_;
};

TEST_F(IdServiceCoreTest, NextIdsAreIncreasingWithTheirWorkerAndTicks) {
  Start();
  v1::NextIdsResponse response;
  // More than a tick holds (4,096): the batch spans two ticks.
  ASSERT_TRUE(core_->NextIds(kMaxBatch, response).ok());
  ASSERT_EQ(response.ids_size(), kMaxBatch);
  for (int i = 1; i < response.ids_size(); ++i) {
    ASSERT_GT(response.ids(i), response.ids(i - 1)) << i;
  }
  EXPECT_EQ(response.worker_id(), 700);
  const Layout& layout = node_->layout();
  auto first = layout.Decompose(response.ids(0));
  auto last = layout.Decompose(response.ids(kMaxBatch - 1));
  ASSERT_TRUE(first.ok() && last.ok());
  EXPECT_EQ(first->worker, 700);
  EXPECT_EQ(response.first_tick(), first->tick);
  EXPECT_EQ(response.last_tick(), last->tick);
  EXPECT_GT(response.last_tick(), response.first_tick());
  EXPECT_EQ(metrics_->ids_issued(), static_cast<uint64_t>(kMaxBatch));
  EXPECT_EQ(core_->issuing_ids(), 0);
}

TEST_F(IdServiceCoreTest, CountsOutsideOneToMaxBatchAreRefusedByName) {
  Start();
  v1::NextIdsResponse response;
  absl::Status zero = core_->NextIds(0, response);
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.message(), HasSubstr("count must be at least 1, got 0"));
  absl::Status above = core_->NextIds(kMaxBatch + 1, response);
  EXPECT_EQ(above.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(above.message(), HasSubstr("count 5001 is above the largest "
                                         "batch, 5000"));
  EXPECT_EQ(core_->CheckCount("batch", 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(core_->CheckCount("batch", 1u << 31).message(),
              HasSubstr("batch 2147483648 is above"));
  EXPECT_EQ(response.ids_size(), 0);
  EXPECT_EQ(metrics_->ids_issued(), 0u);
}

TEST_F(IdServiceCoreTest, NotIssuingBeforeStartOrFromShutdownOn) {
  v1::NextIdsResponse response;
  absl::Status starting = core_->NextIds(1, response);
  EXPECT_EQ(starting.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(starting.message(), HasSubstr("starting"));
  Start();
  ASSERT_TRUE(core_->NextIds(1, response).ok());
  node_->BeginShutdown();
  response.Clear();
  absl::Status stopping = core_->NextIds(1, response);
  EXPECT_EQ(stopping.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(stopping.message(), HasSubstr("shutting down"));
  EXPECT_EQ(response.ids_size(), 0);
}

// While one batch waits for the clock, another that would take the IDs
// being issued past the bound is refused at once, with the wait as its
// retry delay, rather than queued.
TEST_F(IdServiceCoreTest, BusyBeyondTheIdsBeingIssued) {
  Start();
  absl::Status busy;
  int64_t issuing = 0;
  bool checked = false;
  clock_->OnSleep([&](int64_t) {
    if (checked) return;
    checked = true;
    issuing = core_->issuing_ids();
    v1::NextIdsResponse other;
    busy = core_->NextIds(1, other);
  });
  v1::NextIdsResponse response;
  ASSERT_TRUE(core_->NextIds(kMaxBatch, response).ok());
  ASSERT_TRUE(checked);
  EXPECT_EQ(issuing, kMaxBatch);
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(busy), ErrorKind::kWouldWait);
  EXPECT_THAT(busy.message(), HasSubstr("busy"));
  // 5,000 IDs at 4,096 a 1 ms tick: 2 ms.
  EXPECT_EQ(GetRetryDelayMillis(busy), 2);
  // Once it is out, the next is admitted.
  v1::NextIdsResponse after;
  EXPECT_TRUE(core_->NextIds(kMaxBatch, after).ok());
}

TEST_F(IdServiceCoreTest, DecodeAValueOrTextInAnyEncoding) {
  const Layout& layout = node_->layout();
  const uint64_t id = layout.Compose({1000, 700, 5});
  v1::DecodeRequest request;
  request.set_value(id);
  v1::DecodeResponse by_value;
  ASSERT_TRUE(core_->Decode(request, by_value).ok());
  EXPECT_EQ(by_value.id(), id);
  EXPECT_EQ(by_value.tick(), 1000);
  EXPECT_EQ(by_value.time_ms(), layout.MillisOfTick(1000));
  EXPECT_EQ(by_value.time(), "2025-01-01T00:00:01.000Z");
  EXPECT_EQ(by_value.worker(), 700);
  EXPECT_EQ(by_value.sequence(), 5);
  EXPECT_EQ(by_value.layout(), layout.ToString());
  EXPECT_EQ(by_value.region(), "eu");
  EXPECT_EQ(by_value.encodings().at("base62"), EncodeId(id, Encoding::kBase62));

  for (Encoding e : AllEncodings()) {
    v1::DecodeRequest text;
    text.set_text(EncodeId(id, e));
    text.set_encoding(std::string(EncodingName(e)));
    v1::DecodeResponse by_text;
    ASSERT_TRUE(core_->Decode(text, by_text).ok()) << EncodingName(e);
    EXPECT_EQ(by_text.id(), id) << EncodingName(e);
  }
  v1::DecodeRequest decimal;
  decimal.set_text(std::to_string(id));  // Decimal when no encoding.
  v1::DecodeResponse by_decimal;
  ASSERT_TRUE(core_->Decode(decimal, by_decimal).ok());
  EXPECT_EQ(by_decimal.worker(), 700);

  v1::DecodeRequest us;
  us.set_value(layout.Compose({1, 12, 0}));
  v1::DecodeResponse in_us;
  ASSERT_TRUE(core_->Decode(us, in_us).ok());
  EXPECT_EQ(in_us.region(), "us");
}

TEST_F(IdServiceCoreTest, DecodeRefusesWhatIsNoId) {
  v1::DecodeResponse response;
  v1::DecodeRequest unset;
  EXPECT_EQ(core_->Decode(unset, response).code(),
            absl::StatusCode::kInvalidArgument);
  v1::DecodeRequest bad_text;
  bad_text.set_text("12x");
  EXPECT_EQ(core_->Decode(bad_text, response).code(),
            absl::StatusCode::kInvalidArgument);
  v1::DecodeRequest bad_encoding;
  bad_encoding.set_text("12");
  bad_encoding.set_encoding("base99");
  EXPECT_EQ(core_->Decode(bad_encoding, response).code(),
            absl::StatusCode::kInvalidArgument);
  v1::DecodeRequest value_with_encoding;
  value_with_encoding.set_value(12);
  value_with_encoding.set_encoding("hex");
  EXPECT_EQ(core_->Decode(value_with_encoding, response).code(),
            absl::StatusCode::kInvalidArgument);
  v1::DecodeRequest top_bit;
  top_bit.set_value(uint64_t{1} << 63);
  EXPECT_EQ(core_->Decode(top_bit, response).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IdServiceCoreTest, InfoIsTheEssentialsOfV1Info) {
  v1::InfoResponse before;
  core_->Info(before);
  EXPECT_EQ(before.node(), "grpc-node");
  EXPECT_EQ(before.worker_id(), -1);
  EXPECT_EQ(before.worker_ids_size(), 0);
  EXPECT_EQ(before.workers_wanted(), 1);
  EXPECT_FALSE(before.ready());
  EXPECT_FALSE(before.not_ready_reason().empty());
  Start();
  v1::InfoResponse info;
  core_->Info(info);
  EXPECT_EQ(info.cluster(), "c1");
  EXPECT_EQ(info.region(), "eu");
  EXPECT_EQ(info.mode(), "static");
  EXPECT_EQ(info.worker_id(), 700);
  ASSERT_EQ(info.worker_ids_size(), 1);
  EXPECT_EQ(info.worker_ids(0), 700);
  EXPECT_TRUE(info.ready());
  EXPECT_EQ(info.not_ready_reason(), "");
  EXPECT_EQ(info.layout(), node_->layout().ToString());
  EXPECT_EQ(info.version(), "1.2.3");
}

}  // namespace
}  // namespace snowflake::internal
