#include "src/server/internal/rpc_error.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.pb.h"

namespace snowflake::internal {
namespace {

// The details of `error`: its ErrorInfo's reason and, if any, its
// RetryInfo's delay in ms (-1: none).
struct Details {
  int32_t code = -1;
  std::string message;
  std::string reason;
  int64_t retry_ms = -1;
};

Details Read(const RpcError& error) {
  Details out;
  v1::ErrorStatus status;
  EXPECT_TRUE(status.ParseFromString(error.details));
  out.code = status.code();
  out.message = status.message();
  for (const google::protobuf::Any& any : status.details()) {
    v1::ErrorInfo info;
    v1::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      out.reason = info.reason();
      EXPECT_EQ(info.domain(), kErrorDomain);
    } else if (any.UnpackTo(&retry)) {
      out.retry_ms = retry.retry_delay().seconds() * 1000 +
                     retry.retry_delay().nanos() / 1'000'000;
    }
  }
  return out;
}

TEST(RpcErrorTest, CodesTravelAsTheyAre) {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kOutOfRange,
        absl::StatusCode::kUnavailable, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kInternal}) {
    const RpcError error = ToRpcError(absl::Status(code, "why"));
    EXPECT_EQ(error.code, code);
    EXPECT_EQ(error.message, "why");
    const Details details = Read(error);
    EXPECT_EQ(details.code, static_cast<int32_t>(code));
    EXPECT_EQ(details.message, "why");
  }
}

TEST(RpcErrorTest, OnlyRetryableErrorsCarryADelay) {
  const RpcError bad = ToRpcError(absl::InvalidArgumentError("count 0"));
  EXPECT_EQ(bad.retry_after_millis, 0);
  EXPECT_EQ(Read(bad).reason, "bad_request");
  EXPECT_EQ(Read(bad).retry_ms, -1);

  const RpcError large = ToRpcError(absl::OutOfRangeError("count too big"));
  EXPECT_EQ(large.retry_after_millis, 0);
  EXPECT_EQ(Read(large).reason, "too_large");

  const RpcError exhausted = ToRpcError(
      MakeError(absl::StatusCode::kFailedPrecondition,
                ErrorKind::kTimeRangeExhausted, "time range used up"));
  EXPECT_EQ(exhausted.retry_after_millis, 0);
  EXPECT_EQ(Read(exhausted).reason, "time_range_exhausted");

  // No delay recorded: the table's Retry-After (1 s).
  const RpcError starting = ToRpcError(absl::UnavailableError("starting"));
  EXPECT_EQ(starting.retry_after_millis, 1000);
  EXPECT_EQ(Read(starting).reason, "unavailable");
  EXPECT_EQ(Read(starting).retry_ms, 1000);
}

TEST(RpcErrorTest, TheRecordedDelayInMilliseconds) {
  const RpcError behind = ToRpcError(
      MakeError(absl::StatusCode::kUnavailable, ErrorKind::kClockBackwards,
                "clock behind", /*drift_ms=*/40, /*retry_delay_ms=*/1250));
  EXPECT_EQ(behind.code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(behind.retry_after_millis, 1250);
  EXPECT_EQ(Read(behind).reason, "clock_backwards");
  EXPECT_EQ(Read(behind).retry_ms, 1250);

  const RpcError busy =
      ToRpcError(MakeError(absl::StatusCode::kUnavailable,
                           ErrorKind::kWouldWait, "busy", std::nullopt, 0));
  EXPECT_EQ(busy.retry_after_millis, 1);  // Never 0: that reads as none.
  EXPECT_EQ(Read(busy).reason, "busy");
}

TEST(RpcErrorTest, MessagesAreMadeValidUtf8) {
  const RpcError error = ToRpcError(absl::InvalidArgumentError("bad \xFE"));
  EXPECT_EQ(error.message, "bad \xEF\xBF\xBD");
  EXPECT_EQ(Read(error).message, "bad \xEF\xBF\xBD");
}

}  // namespace
}  // namespace snowflake::internal
