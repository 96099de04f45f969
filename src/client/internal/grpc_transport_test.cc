#include "src/client/internal/grpc_transport.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.grpc.pb.h"

namespace snowflake::client::internal {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An IdService whose NextIds does what the test set: IDs 1..count, an
// error with details and a trailer, or a wait past the client's deadline.
class ScriptedService final : public v1::IdService::Service {
 public:
  enum class Mode { kIds, kBusy, kBadRequest, kSlow };

  grpc::Status NextIds(grpc::ServerContext* context,
                       const v1::NextIdsRequest* request,
                       v1::NextIdsResponse* response) override {
    calls.fetch_add(1);
    switch (mode.load()) {
      case Mode::kIds:
        for (uint32_t i = 1; i <= request->count(); ++i) response->add_ids(i);
        return grpc::Status::OK;
      case Mode::kBusy: {
        v1::ErrorStatus details;
        details.set_code(grpc::StatusCode::UNAVAILABLE);
        v1::ErrorInfo info;
        info.set_reason("busy");
        info.set_domain("snowflake");
        details.add_details()->PackFrom(info);
        context->AddTrailingMetadata("retry-after-ms", "70");
        return {grpc::StatusCode::UNAVAILABLE, "too many IDs pending",
                details.SerializeAsString()};
      }
      case Mode::kBadRequest:
        return {grpc::StatusCode::INVALID_ARGUMENT, "count must be 1 or more"};
      case Mode::kSlow:
        while (!context->IsCancelled()) {
          std::this_thread::sleep_for(milliseconds(5));
        }
        return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }

  std::atomic<Mode> mode{Mode::kIds};
  std::atomic<int> calls{0};
};

class GrpcTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  Endpoint Here() const {
    return Endpoint{"127.0.0.1", port_, ClientTransport::kGrpc};
  }

  ScriptedService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcTransportTest, FetchesABatch) {
  GrpcTransport transport(Here());
  absl::StatusOr<std::vector<uint64_t>> ids =
      transport.Fetch(3, milliseconds(5000));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre(1, 2, 3));
  // A new channel after Reset works as well.
  transport.Reset();
  ids = transport.Fetch(1, milliseconds(5000));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(service_.calls.load(), 2);
}

TEST_F(GrpcTransportTest, UnavailableCarriesTheTrailersDelay) {
  service_.mode = ScriptedService::Mode::kBusy;
  GrpcTransport transport(Here());
  const absl::StatusOr<std::vector<uint64_t>> ids =
      transport.Fetch(3, milliseconds(5000));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryDelayMillis(ids.status()), 70);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("node grpc://127.0.0.1:" + std::to_string(port_) +
                        " answered UNAVAILABLE busy: too many IDs pending"));
}

TEST_F(GrpcTransportTest, BadRequestComesBackAsItIs) {
  service_.mode = ScriptedService::Mode::kBadRequest;
  GrpcTransport transport(Here());
  const absl::StatusOr<std::vector<uint64_t>> ids =
      transport.Fetch(3, milliseconds(5000));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("count must be 1 or more"));
}

TEST_F(GrpcTransportTest, NoAnswerWithinTheTimeoutIsUnavailable) {
  service_.mode = ScriptedService::Mode::kSlow;
  GrpcTransport transport(Here());
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<std::vector<uint64_t>> ids =
      transport.Fetch(3, milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("no answer within 200 ms"));
}

TEST_F(GrpcTransportTest, NoServerIsUnavailableAtOnce) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  GrpcTransport transport(Here());
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<std::vector<uint64_t>> ids =
      transport.Fetch(3, milliseconds(3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("node grpc://127.0.0.1:" + std::to_string(port_)));
}

}  // namespace
}  // namespace snowflake::client::internal
