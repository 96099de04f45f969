#include "src/server/internal/health_service.h"

#include <atomic>

#include "gtest/gtest.h"

namespace snowflake::internal {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthServiceTest : public ::testing::Test {
 protected:
  // Check's answer for `service`: the status, or -code when it fails.
  int Check(const std::string& service) {
    grpc::ServerContext context;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status status = health_.Check(&context, &request, &response);
    return status.ok() ? response.status() : -status.error_code();
  }

  std::atomic<bool> ready_{false};
  HealthService health_{[this] { return ready_.load(); }};
};

TEST_F(HealthServiceTest, ServingExactlyWhenTheNodeIsReady) {
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(kIdServiceName), HealthCheckResponse::NOT_SERVING);
  ready_ = true;
  EXPECT_EQ(Check(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("snowflake.v1.IdService"), HealthCheckResponse::SERVING);
  ready_ = false;
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, UnknownServicesAreNotFound) {
  ready_ = true;
  EXPECT_EQ(Check("snowflake.v1.Other"), -grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(health_.StatusOf("nope"), HealthCheckResponse::SERVICE_UNKNOWN);
}

TEST_F(HealthServiceTest, NotServingForGoodFromShutdownOn) {
  ready_ = true;
  health_.Shutdown();
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(kIdServiceName), HealthCheckResponse::NOT_SERVING);
  health_.Shutdown();  // Idempotent.
  EXPECT_EQ(health_.StatusOf(""), HealthCheckResponse::NOT_SERVING);
}

}  // namespace
}  // namespace snowflake::internal
