#include "src/client/internal/grpc_answer.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/duration.pb.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.pb.h"
#include "src/server/internal/rpc_error.h"

namespace snowflake::client::internal {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kNode[] = "grpc://127.0.0.1:9100";

// Details as the node writes them: an ErrorInfo, and a RetryInfo if
// `retry_ms` >= 0.
std::string Details(absl::StatusCode code, const std::string& reason,
                    int64_t retry_ms = -1) {
  v1::ErrorStatus details;
  details.set_code(static_cast<int32_t>(code));
  details.set_message("ignored");
  v1::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("snowflake");
  details.add_details()->PackFrom(info);
  if (retry_ms >= 0) {
    v1::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(retry_ms / 1000);
    retry.mutable_retry_delay()->set_nanos(
        static_cast<int32_t>(retry_ms % 1000 * 1'000'000));
    details.add_details()->PackFrom(retry);
  }
  return details.SerializeAsString();
}

GrpcAnswer Answer(absl::StatusCode code, std::string message,
                  std::string details = "", std::string trailer = "") {
  GrpcAnswer answer;
  answer.code = static_cast<int>(code);
  answer.message = std::move(message);
  answer.details = std::move(details);
  answer.retry_after_ms = std::move(trailer);
  return answer;
}

absl::Status Error(const GrpcAnswer& answer) {
  return ErrorOfGrpcAnswer(answer, kNode, milliseconds(300));
}

TEST(GrpcAnswerTest, UnavailableFailsOverWithTheTrailersDelay) {
  const absl::Status s = Error(
      Answer(absl::StatusCode::kUnavailable, "node is busy",
             Details(absl::StatusCode::kUnavailable, "busy", 1000), "250"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryDelayMillis(s), 250);
  EXPECT_EQ(std::string(s.message()),
            "node grpc://127.0.0.1:9100 answered UNAVAILABLE busy: node is "
            "busy");
}

TEST(GrpcAnswerTest, WithoutTheTrailerTheDetailsGiveTheDelay) {
  absl::Status s = Error(
      Answer(absl::StatusCode::kUnavailable, "behind",
             Details(absl::StatusCode::kUnavailable, "clock_backwards", 1500)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryDelayMillis(s), 1500);
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kClockBackwards);

  // A trailer that is no number is not taken.
  s = Error(Answer(absl::StatusCode::kUnavailable, "x",
                   Details(absl::StatusCode::kUnavailable, "stopped", 20),
                   "soon"));
  EXPECT_EQ(GetRetryDelayMillis(s), 20);
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kStopped);

  // At most an hour, whatever the node says.
  s = Error(Answer(absl::StatusCode::kUnavailable, "x", "", "99999999999"));
  EXPECT_EQ(GetRetryDelayMillis(s), 3'600'000);
}

// The round trip with the node's own encoder (src/server/internal/
// rpc_error.h), as src/server/grpc_service.cc sends it.
TEST(GrpcAnswerTest, ReadsWhatTheNodesEncoderWrites) {
  struct Case {
    absl::Status sent;
    absl::StatusCode code;
    ErrorKind kind;
    std::optional<int64_t> retry_ms;
  };
  const std::vector<Case> cases = {
      {MakeError(absl::StatusCode::kUnavailable, ErrorKind::kClockBackwards,
                 "the clock is 37 ms behind", 37, 37),
       absl::StatusCode::kUnavailable, ErrorKind::kClockBackwards, 37},
      {absl::UnavailableError("node is not ready"),
       absl::StatusCode::kUnavailable, ErrorKind::kNone, 1000},
      {absl::InvalidArgumentError("count must be 1 to 100000, got 0"),
       absl::StatusCode::kInvalidArgument, ErrorKind::kNone, std::nullopt},
      {absl::OutOfRangeError("count 5000 is above the largest batch, 1000"),
       absl::StatusCode::kOutOfRange, ErrorKind::kNone, std::nullopt},
      {MakeError(absl::StatusCode::kFailedPrecondition,
                 ErrorKind::kTimeRangeExhausted, "the time bits ran out"),
       absl::StatusCode::kFailedPrecondition, ErrorKind::kTimeRangeExhausted,
       std::nullopt},
  };
  for (const Case& c : cases) {
    const snowflake::internal::RpcError rpc =
        snowflake::internal::ToRpcError(c.sent);
    const absl::Status s = Error(Answer(
        rpc.code, rpc.message, rpc.details,
        rpc.retry_after_millis > 0 ? std::to_string(rpc.retry_after_millis)
                                   : ""));
    EXPECT_EQ(s.code(), c.code) << c.sent;
    EXPECT_EQ(GetErrorKind(s), c.kind) << c.sent;
    EXPECT_EQ(GetRetryDelayMillis(s), c.retry_ms) << c.sent;
    EXPECT_THAT(
        std::string(s.message()),
        AllOf(HasSubstr(kNode), HasSubstr(std::string(c.sent.message()))))
        << c.sent;
  }
}

TEST(GrpcAnswerTest, WhatNoRetryFixesKeepsItsCodeAndNoDelay) {
  absl::Status s = Error(Answer(
      absl::StatusCode::kInvalidArgument, "count must be 1 to 100000, got 0",
      Details(absl::StatusCode::kInvalidArgument, "bad_request"), "1000"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetRetryDelayMillis(s), std::nullopt);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("answered INVALID_ARGUMENT bad_request: count must"));

  s = Error(Answer(absl::StatusCode::kOutOfRange, "above the largest batch",
                   Details(absl::StatusCode::kOutOfRange, "too_large")));
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);

  // A server without the service: gRPC's own answer, no details.
  s = Error(Answer(absl::StatusCode::kUnimplemented, ""));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(std::string(s.message()),
            "node grpc://127.0.0.1:9100 answered UNIMPLEMENTED");

  // Details of another domain name no kind.
  v1::ErrorStatus foreign;
  v1::ErrorInfo info;
  info.set_reason("clock_backwards");
  info.set_domain("elsewhere");
  foreign.add_details()->PackFrom(info);
  s = Error(
      Answer(absl::StatusCode::kInternal, "boom", foreign.SerializeAsString()));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kNone);

  // Garbage details are ignored.
  s = Error(Answer(absl::StatusCode::kFailedPrecondition, "x", "\xff\xff"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(GrpcAnswerTest, TransportFailuresFailOver) {
  // No connection: gRPC's UNAVAILABLE, without details or delay.
  absl::Status s = Error(Answer(absl::StatusCode::kUnavailable,
                                "failed to connect to all addresses"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryDelayMillis(s), std::nullopt);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("grpc://127.0.0.1:9100 answered UNAVAILABLE: failed "
                        "to connect"));

  s = Error(Answer(absl::StatusCode::kDeadlineExceeded, "Deadline Exceeded"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(s.message()),
            "node grpc://127.0.0.1:9100: no answer within 300 ms");

  for (absl::StatusCode code :
       {absl::StatusCode::kResourceExhausted, absl::StatusCode::kCancelled}) {
    EXPECT_EQ(Error(Answer(code, "x")).code(), absl::StatusCode::kUnavailable)
        << code;
  }
}

TEST(GrpcAnswerTest, IdsAreCheckedBeforeTheyAreHandedOut) {
  const std::vector<uint64_t> ids = {1, 2, 3};
  absl::StatusOr<std::vector<uint64_t>> got = IdsOfGrpcReply(ids, 3, kNode);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, ids);

  got = IdsOfGrpcReply(ids, 4, kNode);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()),
              HasSubstr("sent 3 IDs for a request of 4"));

  const std::vector<uint64_t> negative = {1, uint64_t{1} << 63};
  got = IdsOfGrpcReply(negative, 2, kNode);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("sign bit"));
}

}  // namespace
}  // namespace snowflake::client::internal
